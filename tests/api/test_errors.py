"""The error envelope, authentication failures and the order of checks."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from tests.api.helpers import (
    INVALID_TOKEN,
    MISSING_TOKEN,
    Account,
    assert_error,
    assert_invalid,
    assert_no_leak,
    claims_of,
    create_article,
    error,
    ok,
    resign,
    tamper,
)

# --- the envelope -------------------------------------------------------------------------


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users", content=b'{"user": {"username": ', headers={"Content-Type": "application/json"}
    )

    assert_invalid(response)


async def test_malformed_json_on_an_authenticated_route_is_422(
    client: httpx.AsyncClient, jake: Account
) -> None:
    headers = {**jake.headers, "Content-Type": "application/json"}

    assert_invalid(await client.post("/articles", content=b"{nope", headers=headers))
    assert_invalid(await client.put("/user", content=b"[1, 2", headers=headers))


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "jake", "email": "jake@example.com", "password": "password123"},
        {},
        [],
        "user",
        None,
        {"user": None},
        {"user": "jake"},
        {"user": ["jake"]},
    ],
)
async def test_missing_or_wrong_wrapper_is_422(client: httpx.AsyncClient, payload: Any) -> None:
    assert_invalid(await client.post("/users", json=payload))


async def test_missing_article_wrapper_is_422(client: httpx.AsyncClient, jake: Account) -> None:
    fields = {"title": "t", "description": "d", "body": "b"}

    assert_invalid(await client.post("/articles", json=fields, headers=jake.headers))


async def test_missing_body_is_422(client: httpx.AsyncClient, jake: Account) -> None:
    assert_invalid(await client.post("/users"))
    assert_invalid(await client.post("/articles", headers=jake.headers))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tagList": None}, "tagList"),
        ({"tagList": "dragons"}, "tagList"),
        ({"tagList": [1, 2]}, "tagList"),
        ({"tagList": {"a": 1}}, "tagList"),
        ({"title": 42}, "title"),
        ({"title": ["a"]}, "title"),
        ({"description": True}, "description"),
        ({"body": {"text": "x"}}, "body"),
    ],
)
async def test_wrong_types_in_a_new_article_are_422(
    client: httpx.AsyncClient, jake: Account, fields: dict[str, Any], field: str
) -> None:
    article = {"title": "Title", "description": "Description", "body": "Body", **fields}

    response = await client.post("/articles", json={"article": article}, headers=jake.headers)

    assert_invalid(response, field)
    assert ok(await client.get("/articles"))["articlesCount"] == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": 42}, "username"),
        ({"email": ["a@b.c"]}, "email"),
        ({"password": 12345678}, "password"),
    ],
)
async def test_wrong_types_in_a_new_user_are_422(
    client: httpx.AsyncClient, fields: dict[str, Any], field: str
) -> None:
    user = {"username": "jake", "email": "jake@example.com", "password": "password123", **fields}

    assert_invalid(await client.post("/users", json={"user": user}), field)


async def test_wrong_type_in_a_comment_is_422(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake)

    response = await client.post(
        f"/articles/{article['slug']}/comments", json={"comment": {"body": 7}}, headers=jake.headers
    )

    assert_invalid(response, "body")


async def test_unknown_route_is_404_in_the_envelope(client: httpx.AsyncClient) -> None:
    error(await client.get("/no-such-route"), 404)
    error(await client.get("/articles/a/b/c/d"), 404)


async def test_wrong_method_is_an_error_in_the_envelope(client: httpx.AsyncClient) -> None:
    response = await client.patch("/user", json={"user": {}})

    error(response, 405)


async def test_no_error_leaks_internals(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake)
    headers = {**jake.headers, "Content-Type": "application/json"}
    responses = [
        await client.post("/users", content=b"{", headers={"Content-Type": "application/json"}),
        await client.post("/users", json={"user": {"username": "jake'; DROP TABLE users; --"}}),
        await client.post(
            "/users",
            json={"user": {"username": "JAKE", "email": "x@example.com", "password": "password1"}},
        ),
        await client.post(
            "/users",
            json={"user": {"username": "x", "email": "JAKE@example.com", "password": "password1"}},
        ),
        await client.post(
            "/users/login", json={"user": {"email": "a@b.c", "password": "12345678"}}
        ),
        await client.get("/user", headers={"Authorization": "Token a.b.c"}),
        await client.get("/articles", params={"limit": "9" * 40}),
        await client.get("/articles", params={"offset": "9" * 40}),
        await client.get("/articles/" + "x" * 5000),
        await client.get("/profiles/" + "%27%22%3B--"),
        await client.post("/articles", content=b'{"article": 1}', headers=headers),
        await client.post("/articles", json={"article": {"title": "x" * 100_000}}, headers=headers),
        await client.delete(f"/articles/{article['slug']}/comments/abc", headers=jake.headers),
        await client.delete(
            f"/articles/{article['slug']}/comments/{'9' * 40}", headers=jake.headers
        ),
        await client.get("/no-such-route"),
    ]

    for response in responses:
        assert response.status_code < 500, (response.status_code, response.text)
        assert_no_leak(response)
        if response.status_code >= 400:
            error(response, response.status_code)


# --- authentication -----------------------------------------------------------------------


async def test_auth_required_without_header_is_missing(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/user"), 401, MISSING_TOKEN)


async def test_bearer_is_accepted_too(client: httpx.AsyncClient, jake: Account) -> None:
    response = await client.get("/user", headers={"Authorization": f"Bearer {jake.token}"})

    assert ok(response)["user"]["username"] == "jake"


@pytest.mark.parametrize(
    "header",
    [
        "Token garbage",
        "Token a.b.c",
        "Token ",
        "Token",
        "Bearer garbage",
        "Basic amFrZTpwYXNzd29yZA==",
        "garbage",
    ],
)
async def test_malformed_token_is_invalid(client: httpx.AsyncClient, header: str) -> None:
    assert_error(await client.get("/user", headers={"Authorization": header}), 401, INVALID_TOKEN)


async def test_a_reissued_token_works(client: httpx.AsyncClient, jake: Account) -> None:
    """Checks the crafting below: the same claims signed with the app's key are accepted."""
    token = resign(jake.token)

    assert (
        ok(await client.get("/user", headers={"Authorization": f"Token {token}"}))["user"][
            "username"
        ]
        == "jake"
    )


async def test_badly_signed_token_is_invalid(client: httpx.AsyncClient, jake: Account) -> None:
    token = resign(jake.token, secret="another-secret-key-0123456789abcdef")

    response = await client.get("/user", headers={"Authorization": f"Token {token}"})

    assert_error(response, 401, INVALID_TOKEN)


async def test_token_with_altered_signature_is_invalid(
    client: httpx.AsyncClient, jake: Account
) -> None:
    response = await client.get("/user", headers={"Authorization": f"Token {tamper(jake.token)}"})

    assert_error(response, 401, INVALID_TOKEN)


async def test_token_with_altered_claims_is_invalid(
    client: httpx.AsyncClient, jake: Account
) -> None:
    head, _, signature = jake.token.split(".")
    claims, _ = claims_of(jake.token)
    claims["sub"] = str(claims.get("sub", "")) + "0"
    payload = jwt.encode(claims, "unused-key-only-the-payload-is-kept", algorithm="HS256").split(
        "."
    )[1]

    response = await client.get(
        "/user", headers={"Authorization": f"Token {head}.{payload}.{signature}"}
    )

    assert_error(response, 401, INVALID_TOKEN)


async def test_unsigned_token_is_invalid(client: httpx.AsyncClient, jake: Account) -> None:
    claims, _ = claims_of(jake.token)
    token = jwt.encode(claims, "", algorithm="none")

    response = await client.get("/user", headers={"Authorization": f"Token {token}"})

    assert_error(response, 401, INVALID_TOKEN)


async def test_expired_token_is_invalid(client: httpx.AsyncClient, jake: Account) -> None:
    now = int(time.time())
    token = resign(jake.token, iat=now - 7200, nbf=now - 7200, exp=now - 3600)

    response = await client.get("/user", headers={"Authorization": f"Token {token}"})

    assert_error(response, 401, INVALID_TOKEN)


async def test_token_of_a_user_who_does_not_exist_is_invalid(
    client: httpx.AsyncClient, jake: Account
) -> None:
    claims, _ = claims_of(jake.token)
    ghost = str(int(claims["sub"]) + 1_000_000)

    token = resign(jake.token, sub=ghost)

    assert_error(
        await client.get("/user", headers={"Authorization": f"Token {token}"}), 401, INVALID_TOKEN
    )


REQUIRED = [
    ("GET", "/user", None),
    ("PUT", "/user", {"user": {"bio": "x"}}),
    ("POST", "/profiles/nobody/follow", None),
    ("DELETE", "/profiles/nobody/follow", None),
    ("GET", "/articles/feed", None),
    ("POST", "/articles", {"article": {"title": "t", "description": "d", "body": "b"}}),
    ("PUT", "/articles/no-such-article", {"article": {"title": "x"}}),
    ("DELETE", "/articles/no-such-article", None),
    ("POST", "/articles/no-such-article/favorite", None),
    ("DELETE", "/articles/no-such-article/favorite", None),
    ("POST", "/articles/no-such-article/comments", {"comment": {"body": "x"}}),
    ("DELETE", "/articles/no-such-article/comments/1", None),
]


@pytest.mark.parametrize(("method", "path", "payload"), REQUIRED)
async def test_auth_is_checked_before_lookup(
    client: httpx.AsyncClient, method: str, path: str, payload: Any
) -> None:
    response = await client.request(method, path, json=payload)

    assert_error(response, 401, MISSING_TOKEN)


@pytest.mark.parametrize(("method", "path", "payload"), REQUIRED)
async def test_bad_token_is_checked_before_lookup(
    client: httpx.AsyncClient, method: str, path: str, payload: Any
) -> None:
    headers = {"Authorization": "Token nonsense"}

    response = await client.request(method, path, json=payload, headers=headers)

    assert_error(response, 401, INVALID_TOKEN)


@pytest.mark.parametrize(
    ("field", "size"), [("title", 256), ("description", 1001), ("body", 200_001)]
)
async def test_overlong_article_fields_are_422_not_a_database_error(
    client: httpx.AsyncClient, jake: Account, field: str, size: int
) -> None:
    article = {"title": "t", "description": "d", "body": "b", field: "x" * size}

    response = await client.post("/articles", json={"article": article}, headers=jake.headers)

    assert_invalid(response, field)


async def test_an_overlong_bio_is_422(client: httpx.AsyncClient, jake: Account) -> None:
    response = await client.put("/user", json={"user": {"bio": "x" * 70_000}}, headers=jake.headers)

    assert_invalid(response, "bio")
