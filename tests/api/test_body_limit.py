"""Request bodies are bounded (``BROADSHEET_MAX_BODY_BYTES``): a larger one is a 413, whether
its size is declared up front or it arrives in chunks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from broadsheet.settings import Settings
from tests.api.helpers import Account, assert_error, ok

LIMIT = Settings().max_body_bytes
TOO_LARGE = {"errors": {"body": [f"is too large (maximum is {LIMIT} bytes)"]}}
JSON = {"Content-Type": "application/json"}


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_a_declared_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/users/login", content=b" " * (LIMIT + 1), headers=JSON)

    assert_error(response, 413, TOO_LARGE)
    assert response.headers["connection"] == "close"


async def test_a_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/users/login", content=chunks(LIMIT + 1), headers=JSON)

    assert "content-length" not in response.request.headers  # it really was sent in chunks
    assert_error(response, 413, TOO_LARGE)


async def test_a_body_of_exactly_the_limit_is_read(client: httpx.AsyncClient) -> None:
    payload = json.dumps({"user": {"email": "a@example.com", "password": "password123"}})
    padded = payload.encode().ljust(LIMIT)

    response = await client.post("/users/login", content=padded, headers=JSON)

    assert_error(response, 401, {"errors": {"credentials": ["invalid"]}})


async def test_the_longest_article_fits_even_with_every_character_escaped(
    client: httpx.AsyncClient, jake: Account
) -> None:
    """200,000 astral characters, each sent as a 12-byte surrogate-pair escape: ~2.4 MB."""
    article = {"title": "🐉" * 255, "description": "🐉" * 1000, "body": "🐉" * 200_000}
    content = json.dumps({"article": article}, ensure_ascii=True).encode()
    assert len(content) > 2_400_000

    response = await client.post("/articles", content=content, headers={**JSON, **jake.headers})

    assert ok(response, 201)["article"]["body"] == article["body"]
