"""Requests the app cannot read: every one a 422 that names each bad field once, or a 405 that
names the methods the path does answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import Account, assert_error, error

JSON = {"Content-Type": "application/json"}
NEW_USER = {"username": "amy", "email": "amy@example.com", "password": "password123"}


def body_error(message: str) -> dict[str, Any]:
    return {"errors": {"body": [message]}}


@pytest.mark.parametrize("depth", [2_000, 100_000])
async def test_deeply_nested_json_is_a_422_like_any_unreadable_body(
    client: httpx.AsyncClient, depth: int
) -> None:
    nested = b"[" * depth + b"]" * depth

    response = await client.post("/users", content=nested, headers=JSON)

    assert_error(response, 422, body_error("is nested too deeply"))


async def test_deeply_nested_json_inside_a_field_is_a_422(
    client: httpx.AsyncClient, jake: Account
) -> None:
    nested = b'{"article": {"title": ' + b"[" * 5_000 + b"]" * 5_000 + b"}}"

    response = await client.post("/articles", content=nested, headers={**JSON, **jake.headers})

    assert_error(response, 422, body_error("is nested too deeply"))


async def test_malformed_json_says_where(client: httpx.AsyncClient) -> None:
    response = await client.post("/users", content=b'{"user": {"username": ', headers=JSON)

    assert_error(response, 422, body_error("is not valid JSON (expecting value at character 22)"))


async def test_a_body_that_is_not_utf8_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/users", content=b'{"user": {"username": "\xff"}}', headers=JSON)

    assert_error(response, 422, body_error("is not UTF-8"))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_not_sent_as_json_says_so(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}

    response = await client.post("/users", content=b'{"user": {}}', headers=headers)

    assert_error(
        response, 422, body_error("must be JSON, sent with Content-Type: application/json")
    )


@pytest.mark.parametrize("payload", [[], "user", 1, True, [{"user": NEW_USER}]])
async def test_a_body_that_is_not_an_object_says_so(
    client: httpx.AsyncClient, payload: Any
) -> None:
    response = await client.post("/users", json=payload)

    assert_error(response, 422, body_error("must be a JSON object"))


@pytest.mark.parametrize("payload", [None, ...], ids=["null", "no body"])
async def test_a_missing_body_says_so(client: httpx.AsyncClient, payload: Any) -> None:
    response = await (
        client.post("/users") if payload is ... else client.post("/users", json=payload)
    )

    assert_error(response, 422, body_error("is missing: send a JSON object"))


@pytest.mark.parametrize(
    ("path", "wrapper"), [("/users", "user"), ("/users/login", "user"), ("/articles", "article")]
)
async def test_a_missing_wrapper_is_named(
    client: httpx.AsyncClient, jake: Account, path: str, wrapper: str
) -> None:
    response = await client.post(path, json={}, headers=jake.headers)

    assert_error(
        response, 422, {"errors": {wrapper: [f'is missing: send {{"{wrapper}": {{...}}}}']}}
    )


@pytest.mark.parametrize("value", [None, "jake", ["jake"], 1])
async def test_a_wrapper_that_is_not_an_object_is_named(
    client: httpx.AsyncClient, value: Any
) -> None:
    response = await client.post("/users", json={"user": value})

    assert_error(response, 422, {"errors": {"user": ["must be an object"]}})


async def test_every_bad_field_is_named_once_and_list_items_by_position(
    client: httpx.AsyncClient, jake: Account
) -> None:
    article = {"title": 1, "description": ["d"], "body": {"x": 1}, "tagList": [1, "ok", 2.5, 3]}

    response = await client.post("/articles", json={"article": article}, headers=jake.headers)

    assert_error(
        response,
        422,
        {
            "errors": {
                "title": ["must be a string"],
                "description": ["must be a string"],
                "body": ["must be a string"],
                "tagList": [
                    "item 0 must be a string",
                    "item 2 must be a string",
                    "item 3 must be a string",
                ],
            }
        },
    )


@pytest.mark.parametrize("value", [None, "dragons", {"a": 1}])
async def test_a_tag_list_that_is_not_a_list_says_so(
    client: httpx.AsyncClient, jake: Account, value: Any
) -> None:
    article = {"title": "t", "description": "d", "body": "b", "tagList": value}

    response = await client.post("/articles", json={"article": article}, headers=jake.headers)

    assert_error(response, 422, {"errors": {"tagList": ["must be an array"]}})


async def test_bad_query_values_are_each_named(client: httpx.AsyncClient) -> None:
    response = await client.get("/articles", params={"limit": "ten", "offset": "x"})

    assert_error(
        response,
        422,
        {"errors": {"limit": ["must be an integer"], "offset": ["must be an integer"]}},
    )


async def test_page_bounds_keep_the_domain_message(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.get("/articles", params={"limit": 0}),
        422,
        {"errors": {"limit": ["must be between 1 and 100"]}},
    )
    assert_error(
        await client.get("/articles", params={"offset": -1}),
        422,
        {"errors": {"offset": ["must be 0 or more"]}},
    )


# --- methods ------------------------------------------------------------------------------

ALLOWED = [
    ("/user", {"GET", "PUT"}),
    ("/users", {"POST"}),
    ("/articles", {"GET", "POST"}),
    ("/articles/feed", {"GET"}),  # never taken for a slug, with any method
    ("/articles/some-slug", {"GET", "PUT", "DELETE"}),
    ("/articles/some-slug/favorite", {"POST", "DELETE"}),
    ("/articles/some-slug/comments", {"GET", "POST"}),
    ("/articles/some-slug/comments/1", {"DELETE"}),
    ("/profiles/jake/follow", {"POST", "DELETE"}),
    ("/tags", {"GET"}),
]


@pytest.mark.parametrize(("path", "methods"), ALLOWED)
async def test_a_wrong_method_names_every_method_of_the_path(
    client: httpx.AsyncClient, path: str, methods: set[str]
) -> None:
    for method in ["PATCH", "OPTIONS", *({"GET", "POST", "PUT", "DELETE"} - methods)]:
        response = await client.request(method, path)

        assert_error(response, 405, {"errors": {"method": [f"{method} is not allowed here"]}})
        allowed = {name.strip() for name in response.headers["allow"].split(",")}
        assert allowed == methods, (method, path, response.headers["allow"])


async def test_a_cors_preflight_is_still_answered(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/articles/some-slug",
        headers={"Origin": "http://localhost:4100", "Access-Control-Request-Method": "PUT"},
    )

    assert response.status_code == 200
    assert "PUT" in response.headers["access-control-allow-methods"]


async def test_a_trailing_slash_is_not_redirected(client: httpx.AsyncClient) -> None:
    error(await client.get("/articles/"), 404)
