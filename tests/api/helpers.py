"""Small helpers for the HTTP conformance suite: accounts, articles and exact-shape checks.

Every check here is written from the contract in ``realworld-api.md``; none of it knows how the
app is built.
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

PASSWORD = "correct horse battery"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

USER_KEYS = {"email", "token", "username", "bio", "image"}
PROFILE_KEYS = {"username", "bio", "image", "following"}
ARTICLE_KEYS = {
    "slug",
    "title",
    "description",
    "body",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}
LISTED_ARTICLE_KEYS = ARTICLE_KEYS - {"body"}
COMMENT_KEYS = {"id", "createdAt", "updatedAt", "body", "author"}

# Nothing an error body may ever reveal: stack traces, SQL, driver names.
LEAKS = ("Traceback", "sqlalchemy", "SELECT", "INSERT", "UPDATE ", "DELETE FROM", "asyncpg")

MISSING_TOKEN = {"errors": {"token": ["is missing"]}}
INVALID_TOKEN = {"errors": {"token": ["is invalid"]}}
BAD_CREDENTIALS = {"errors": {"credentials": ["invalid"]}}


@dataclass(frozen=True, slots=True)
class Account:
    """A registered user as the client knows them."""

    username: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.token)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def blank(field: str) -> dict[str, Any]:
    return {"errors": {field: ["can't be blank"]}}


def taken(field: str) -> dict[str, Any]:
    return {"errors": {field: ["has already been taken"]}}


def not_found(what: str) -> dict[str, Any]:
    return {"errors": {what: ["not found"]}}


def forbidden(what: str) -> dict[str, Any]:
    return {"errors": {what: ["forbidden"]}}


# --- tokens -------------------------------------------------------------------------------

TEST_SECRET = "test-secret-key-0123456789abcdef"


def claims_of(token: str) -> tuple[dict[str, Any], str]:
    """The claims and algorithm of a token the app issued, read without checking it."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    algorithm = str(jwt.get_unverified_header(token)["alg"])
    return claims, algorithm


def resign(token: str, secret: str = TEST_SECRET, **changes: Any) -> str:
    claims, algorithm = claims_of(token)
    claims.update(changes)
    return jwt.encode(claims, secret, algorithm=algorithm)


def tamper(token: str) -> str:
    """The same header and claims with a different signature."""
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0xFF
    altered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return f"{head}.{payload}.{altered}"


# --- checks -------------------------------------------------------------------------------


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a successful response, after checking the status and content type."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return response.json()


def assert_no_content(response: httpx.Response) -> None:
    assert response.status_code == 204, (response.status_code, response.text)
    assert response.content == b""


def error(response: httpx.Response, status: int) -> dict[str, list[str]]:
    """The ``errors`` object of an error response, after checking the envelope and its safety."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert_no_leak(response)
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"errors"}, body
    errors = body["errors"]
    assert isinstance(errors, dict), body
    assert errors, body
    for key, messages in errors.items():
        assert isinstance(key, str), body
        assert isinstance(messages, list), body
        assert messages, body
        assert all(isinstance(m, str) and m for m in messages), body
    return errors


def assert_error(response: httpx.Response, status: int, expected: dict[str, Any]) -> None:
    """An error response whose body is exactly ``expected``."""
    error(response, status)
    assert response.json() == expected


def assert_invalid(response: httpx.Response, field: str | None = None) -> dict[str, list[str]]:
    """A 422 in the error envelope; naming ``field`` when the contract names it."""
    errors = error(response, 422)
    if field is not None:
        assert field in errors, errors
    return errors


def assert_no_leak(response: httpx.Response) -> None:
    text = response.text
    for word in LEAKS:
        assert word not in text, (word, text)


def assert_user(user: Any, *, username: str, email: str) -> None:
    assert isinstance(user, dict)
    assert set(user) == USER_KEYS, user
    assert user["username"] == username
    assert user["email"] == email
    assert isinstance(user["token"], str)
    assert user["token"]


def assert_profile(profile: Any, *, username: str, following: bool) -> None:
    assert isinstance(profile, dict)
    assert set(profile) == PROFILE_KEYS, profile
    assert profile["username"] == username
    assert profile["following"] is following


def assert_article(article: Any, *, listed: bool = False) -> None:
    """Every key of an Article (a listed one has no ``body``), each of the right type."""
    assert isinstance(article, dict)
    assert set(article) == (LISTED_ARTICLE_KEYS if listed else ARTICLE_KEYS), article
    assert SLUG.match(article["slug"]), article["slug"]
    for key in ("title", "description"):
        assert isinstance(article[key], str)
    if not listed:
        assert isinstance(article["body"], str)
    assert isinstance(article["tagList"], list)
    assert all(isinstance(tag, str) for tag in article["tagList"])
    assert article["tagList"] == sorted(article["tagList"])
    assert TIMESTAMP.match(article["createdAt"]), article["createdAt"]
    assert TIMESTAMP.match(article["updatedAt"]), article["updatedAt"]
    assert isinstance(article["favorited"], bool)
    assert isinstance(article["favoritesCount"], int)
    assert not isinstance(article["favoritesCount"], bool)
    assert isinstance(article["author"], dict)
    assert set(article["author"]) == PROFILE_KEYS


def assert_comment(comment: Any) -> None:
    assert isinstance(comment, dict)
    assert set(comment) == COMMENT_KEYS, comment
    assert isinstance(comment["id"], int)
    assert not isinstance(comment["id"], bool)
    assert isinstance(comment["body"], str)
    assert TIMESTAMP.match(comment["createdAt"]), comment["createdAt"]
    assert TIMESTAMP.match(comment["updatedAt"]), comment["updatedAt"]
    assert isinstance(comment["author"], dict)
    assert set(comment["author"]) == PROFILE_KEYS


def assert_page(body: Any, *, count: int) -> list[dict[str, Any]]:
    """A Multiple-articles body with ``articlesCount == count``; returns the items."""
    assert isinstance(body, dict)
    assert set(body) == {"articles", "articlesCount"}, body
    assert body["articlesCount"] == count, body
    articles = body["articles"]
    assert isinstance(articles, list)
    for article in articles:
        assert_article(article, listed=True)
    return articles


def slugs(body: Any) -> list[str]:
    return [article["slug"] for article in body["articles"]]


# --- actions ------------------------------------------------------------------------------


async def register(
    client: httpx.AsyncClient,
    username: str = "jake",
    *,
    email: str | None = None,
    password: str = PASSWORD,
) -> Account:
    address = email if email is not None else f"{username.lower()}@example.com"
    response = await client.post(
        "/users", json={"user": {"username": username, "email": address, "password": password}}
    )
    user = ok(response, 201)["user"]
    return Account(
        username=user["username"], email=user["email"], password=password, token=user["token"]
    )


async def create_article(
    client: httpx.AsyncClient,
    author: Account,
    title: str = "How to train your dragon",
    *,
    description: str = "Ever wonder how?",
    body: str = "You have to believe",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": title, "description": description, "body": body}
    if tags is not None:
        fields["tagList"] = tags
    response = await client.post("/articles", json={"article": fields}, headers=author.headers)
    article: dict[str, Any] = ok(response, 201)["article"]
    return article


async def create_articles(
    client: httpx.AsyncClient, author: Account, count: int, *, prefix: str = "Article"
) -> list[dict[str, Any]]:
    """``count`` articles created a few milliseconds apart, oldest first."""
    created = []
    for number in range(count):
        created.append(await create_article(client, author, f"{prefix} {number}"))
        await asyncio.sleep(0.003)
    return created


async def follow(client: httpx.AsyncClient, follower: Account, username: str) -> None:
    ok(await client.post(f"/profiles/{username}/follow", headers=follower.headers))


async def favorite(client: httpx.AsyncClient, user: Account, slug: str) -> dict[str, Any]:
    article: dict[str, Any] = ok(
        await client.post(f"/articles/{slug}/favorite", headers=user.headers)
    )["article"]
    return article


async def add_comment(
    client: httpx.AsyncClient, user: Account, slug: str, body: str = "Thank you so much!"
) -> dict[str, Any]:
    response = await client.post(
        f"/articles/{slug}/comments", json={"comment": {"body": body}}, headers=user.headers
    )
    comment: dict[str, Any] = ok(response, 201)["comment"]
    return comment
