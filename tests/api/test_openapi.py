"""The published OpenAPI schema describes the API as it really answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

SCHEMA_URL = "http://test/openapi.json"
OPTIONAL_AUTH = {
    ("get", "/api/articles"),
    ("get", "/api/articles/{slug}"),
    ("get", "/api/articles/{slug}/comments"),
    ("get", "/api/profiles/{username}"),
    ("get", "/api/search"),
    ("get", "/api/analytics/trending"),
    ("get", "/api/profiles/{username}/stats"),
    ("get", "/api/profiles/{username}/path"),
}
NO_AUTH = {
    ("post", "/api/users"),
    ("post", "/api/users/login"),
    ("get", "/api/tags"),
    ("get", "/api/analytics/tags"),
}
# What each route can answer besides success, from the contract (realworld-api.md).
CAN_FAIL_WITH = {
    ("post", "/api/users/login"): {401, 422},
    ("post", "/api/users"): {409, 422},
    ("post", "/api/users/logout"): {401},
    ("get", "/api/user"): {401},
    ("put", "/api/user"): {401, 409, 422},
    ("get", "/api/profiles/{username}"): {404},
    ("post", "/api/profiles/{username}/follow"): {401, 404, 422},
    ("delete", "/api/profiles/{username}/follow"): {401, 404},
    ("get", "/api/articles"): {422},
    ("get", "/api/articles/feed"): {401, 422},
    ("get", "/api/articles/{slug}"): {404},
    ("post", "/api/articles"): {401, 422},
    ("put", "/api/articles/{slug}"): {401, 403, 404, 422},
    ("delete", "/api/articles/{slug}"): {401, 403, 404, 422},  # 422: a staff reason too long
    ("post", "/api/articles/{slug}/favorite"): {401, 404},
    ("delete", "/api/articles/{slug}/favorite"): {401, 404},
    ("get", "/api/articles/{slug}/comments"): {404},
    ("post", "/api/articles/{slug}/comments"): {401, 404, 422},
    ("delete", "/api/articles/{slug}/comments/{comment_id}"): {401, 403, 404, 422},
    ("get", "/api/tags"): set(),
    # Beyond RealWorld: docs/api.md
    ("get", "/api/search"): {422},
    ("get", "/api/analytics/tags"): {422},
    ("get", "/api/analytics/trending"): {422},
    ("get", "/api/profiles/{username}/stats"): {404},
    ("get", "/api/user/suggestions"): {401, 422},
    ("get", "/api/profiles/{username}/path"): {404, 422},
    ("get", "/api/user/subscriptions"): {401},
    ("post", "/api/tags/{tag}/subscription"): {401, 422},
    ("delete", "/api/tags/{tag}/subscription"): {401, 422},
    ("post", "/api/profiles/{username}/suspension"): {401, 403, 404, 422},
    ("delete", "/api/profiles/{username}/suspension"): {401, 403, 404, 422},
    ("get", "/api/audit"): {401, 403, 422},
}


# The audit log's entries: the command line has no username, and a reason is optional.
NULLABLE_BEYOND_REALWORLD = {("get", "/api/audit"): {"actor", "reason"}}


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(SCHEMA_URL)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        if path.startswith("/api"):
            for method, operation in methods.items():
                yield method, path, operation


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def nullable_properties(schema: dict[str, Any], node: dict[str, Any]) -> Iterator[str]:
    """Every property, at any depth, that the schema lets be ``null``."""
    node = resolve(schema, node)
    for name, prop in node.get("properties", {}).items():
        prop = resolve(schema, prop)
        kinds = prop.get("type")
        if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
            yield name
        if any(option.get("type") == "null" for option in prop.get("anyOf", [])):
            yield name
        yield from nullable_properties(schema, prop)
        if "items" in prop:
            yield from nullable_properties(schema, prop["items"])


def json_schema_of(part: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = part["content"]["application/json"]["schema"]
    return schema


async def test_every_route_is_documented(schema: dict[str, Any]) -> None:
    assert {(m, p) for m, p, _ in operations(schema)} == set(CAN_FAIL_WITH)


async def test_every_error_a_route_can_give_is_documented_in_the_envelope(
    schema: dict[str, Any],
) -> None:
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        documented = {int(status) for status in responses if int(status) >= 400}
        assert CAN_FAIL_WITH[method, path] | {413, 503} <= documented, (method, path)
        for status in documented:
            part = json_schema_of(responses[str(status)])
            assert part == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
    assert "detail" not in str(schema)
    assert "HTTPValidationError" not in str(schema)
    envelope = schema["components"]["schemas"]["ErrorResponse"]
    assert envelope["required"] == ["errors"]
    assert envelope["properties"]["errors"]["additionalProperties"]["items"]["type"] == "string"


async def test_rate_limited_routes_document_a_429(schema: dict[str, Any]) -> None:
    responses = {(m, p): op["responses"] for m, p, op in operations(schema)}

    assert "429" in responses["post", "/api/users/login"]
    assert "429" in responses["post", "/api/users"]
    assert "429" in responses["post", "/api/articles"]
    assert "429" not in responses["get", "/api/articles"]


async def test_only_bio_and_image_are_nullable(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        parts = [json_schema_of(r) for r in operation["responses"].values() if "content" in r]
        if "requestBody" in operation:
            parts.append(json_schema_of(operation["requestBody"]))
        allowed = {"bio", "image"} | NULLABLE_BEYOND_REALWORLD.get((method, path), set())
        for part in parts:
            assert set(nullable_properties(schema, part)) <= allowed, (method, path)
        for parameter in operation.get("parameters", []):
            assert "anyOf" not in parameter["schema"], (method, path, parameter)


async def test_required_request_fields_are_required(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]

    assert set(components["NewUser"]["required"]) == {"username", "email", "password"}
    assert set(components["LoginUser"]["required"]) == {"email", "password"}
    assert set(components["NewArticle"]["required"]) == {"title", "description", "body"}
    assert components["NewComment"]["required"] == ["body"]
    assert "required" not in components["UpdateUser"]
    assert components["NewUser"]["properties"]["password"]["minLength"] == 8
    assert components["NewArticle"]["properties"]["title"]["maxLength"] == 255


async def test_paging_bounds_are_documented(schema: dict[str, Any]) -> None:
    for path in ["/api/articles", "/api/articles/feed"]:
        parameters = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["limit"]["minimum"] == 1
        assert parameters["limit"]["maximum"] == 100
        assert parameters["offset"]["minimum"] == 0


async def test_which_routes_need_a_token(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        security = operation.get("security", [])
        if (method, path) in NO_AUTH:
            assert security == [], (method, path)
        elif (method, path) in OPTIONAL_AUTH:
            assert security == [{"Token": []}, {}], (method, path)
        else:
            assert security == [{"Token": []}], (method, path)
    scheme = schema["components"]["securitySchemes"]["Token"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}


async def test_responses_link_to_the_next_request(schema: dict[str, Any]) -> None:
    created = schema["paths"]["/api/articles"]["post"]["responses"]["201"]["links"]
    commented = schema["paths"]["/api/articles/{slug}/comments"]["post"]["responses"]["201"]
    operation_ids = {op["operationId"] for _, _, op in operations(schema)}

    assert created["GetArticle"]["parameters"] == {"slug": "$response.body#/article/slug"}
    assert commented["links"]["DeleteComment"]["parameters"]["comment_id"] == (
        "$response.body#/comment/id"
    )
    for _, _, operation in operations(schema):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in operation_ids
