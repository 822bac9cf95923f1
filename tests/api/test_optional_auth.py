"""Routes where auth is optional read a token that does not verify as anonymous.

The contract (Authentication): a bad, expired, revoked or foreign token, or one whose user is
gone, is answered as if anonymous, with ``WWW-Authenticate: Token error="invalid_token"``;
routes that require auth still answer 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    INVALID_TOKEN,
    MISSING_TOKEN,
    Account,
    add_comment,
    assert_error,
    claims_of,
    create_article,
    favorite,
    follow,
    not_found,
    ok,
    resign,
    tamper,
)

CHALLENGE = 'Token error="invalid_token"'


def _expired(token: str) -> str:
    now = int(time.time())
    return "Token " + resign(token, iat=now - 7200, exp=now - 3600)


def _of_a_deleted_user(token: str) -> str:
    claims, _ = claims_of(token)
    return "Token " + resign(token, sub=str(int(claims["sub"]) + 1_000_000))


# Each turns a real token of the reader into an Authorization header that must not verify.
BAD_AUTHORIZATION: dict[str, Callable[[str], str]] = {
    "garbage": lambda _: "Token nonsense",
    "three garbage parts": lambda _: "Token a.b.c",
    "expired": _expired,
    "signed with another key": lambda token: (
        "Token " + resign(token, secret="another-secret-key-0123456789abcdef")
    ),
    "altered signature": lambda token: "Token " + tamper(token),
    "unknown scheme": lambda token: f"Basic {token}",
    "scheme without a token": lambda _: "Token",
    "no scheme": lambda token: token,
    "user deleted": _of_a_deleted_user,
    "user id out of range": lambda token: "Token " + resign(token, sub=str(2**40)),
}


@pytest.fixture
async def scene(client: httpx.AsyncClient, jake: Account, jane: Account) -> dict[str, str]:
    """Jane follows Jake and favorites his article: what she sees differs from anonymous."""
    article = await create_article(client, jake)
    await follow(client, jane, "jake")
    await favorite(client, jane, article["slug"])
    await add_comment(client, jake, article["slug"])
    return {"slug": article["slug"]}


def optional_reads(slug: str) -> list[str]:
    return [
        "/articles",
        "/articles?author=jake",
        f"/articles/{slug}",
        f"/articles/{slug}/comments",
        "/profiles/jake",
    ]


def viewer_flags(body: Any) -> list[bool]:
    """Every ``favorited`` and ``following`` in a body: all false for an anonymous reader."""
    found: list[bool] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key in {"favorited", "following"}:
                found.append(value)
            else:
                found.extend(viewer_flags(value))
    elif isinstance(body, list):
        for item in body:
            found.extend(viewer_flags(item))
    return found


@pytest.mark.parametrize("kind", list(BAD_AUTHORIZATION))
async def test_optional_reads_with_a_bad_token_are_anonymous(
    client: httpx.AsyncClient, jane: Account, scene: dict[str, str], kind: str
) -> None:
    header = BAD_AUTHORIZATION[kind](jane.token)

    for path in optional_reads(scene["slug"]):
        anonymous = await client.get(path)
        with_bad_token = await client.get(path, headers={"Authorization": header})

        assert ok(with_bad_token) == ok(anonymous), path
        assert with_bad_token.headers.get("www-authenticate") == CHALLENGE, path
        assert "www-authenticate" not in anonymous.headers, path
        assert not any(viewer_flags(with_bad_token.json())), path


async def test_the_same_reads_with_the_valid_token_are_personal(
    client: httpx.AsyncClient, jane: Account, scene: dict[str, str]
) -> None:
    """The control for the test above: Jane's own token does change what she sees."""
    for path in optional_reads(scene["slug"]):
        response = await client.get(path, headers=jane.headers)

        body = ok(response)
        assert "www-authenticate" not in response.headers, path
        if "comments" not in path:  # the comment author is Jake, whom she follows too
            assert any(viewer_flags(body)), path


@pytest.mark.parametrize("kind", ["garbage", "user deleted"])
async def test_an_optional_read_that_fails_still_says_the_token_was_not_used(
    client: httpx.AsyncClient, jane: Account, kind: str
) -> None:
    headers = {"Authorization": BAD_AUTHORIZATION[kind](jane.token)}

    response = await client.get("/articles/no-such-article", headers=headers)

    assert_error(response, 404, not_found("article"))
    assert response.headers.get("www-authenticate") == CHALLENGE


async def test_a_token_that_does_not_verify_is_flagged_even_on_a_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/articles?limit=0", headers={"Authorization": "Token nonsense"})

    assert response.status_code == 422
    assert response.headers.get("www-authenticate") == CHALLENGE


REQUIRED: list[tuple[str, str, Any]] = [
    ("GET", "/user", None),
    ("PUT", "/user", {"user": {"bio": "x"}}),
    ("GET", "/articles/feed", None),
    ("POST", "/articles", {"article": {"title": "t", "description": "d", "body": "b"}}),
    ("POST", "/profiles/jake/follow", None),
    ("DELETE", "/articles/some-slug/favorite", None),
]


@pytest.mark.parametrize("kind", list(BAD_AUTHORIZATION))
@pytest.mark.parametrize(("method", "path", "payload"), REQUIRED)
async def test_required_routes_with_a_bad_token_are_still_401(
    client: httpx.AsyncClient, jane: Account, kind: str, method: str, path: str, payload: Any
) -> None:
    headers = {"Authorization": BAD_AUTHORIZATION[kind](jane.token)}

    response = await client.request(method, path, headers=headers, json=payload)

    assert_error(response, 401, INVALID_TOKEN)
    assert response.headers["www-authenticate"] == CHALLENGE


async def test_a_required_route_without_a_token_asks_for_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/user")

    assert_error(response, 401, MISSING_TOKEN)
    assert response.headers["www-authenticate"] == "Token"
