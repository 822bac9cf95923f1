"""Simultaneous identical requests: idempotent operations stay idempotent under a race."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.helpers import Account, create_article, ok, register
from tests.conftest import TRANSACTIONAL_BACKENDS

COPIES = 10


@pytest.fixture
def isolated(backend: str) -> bool:
    """Whether every response shows one consistent state. Without transactions (the
    mongodb-standalone backend) a favorite and its counter are two writes, so a response
    may fall between them; the state after the race must be right all the same."""
    return backend in TRANSACTIONAL_BACKENDS


async def test_simultaneous_follows(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    responses = await asyncio.gather(
        *(client.post("/profiles/jake/follow", headers=jane.headers) for _ in range(COPIES))
    )

    for response in responses:
        assert ok(response)["profile"]["following"] is True
    profile = ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]
    assert profile["following"] is True
    article = await create_article(client, jake)
    feed = ok(await client.get("/articles/feed", headers=jane.headers))
    assert feed["articlesCount"] == 1
    assert [a["slug"] for a in feed["articles"]] == [article["slug"]]


async def test_simultaneous_unfollows(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    ok(await client.post("/profiles/jake/follow", headers=jane.headers))

    responses = await asyncio.gather(
        *(client.delete("/profiles/jake/follow", headers=jane.headers) for _ in range(COPIES))
    )

    for response in responses:
        assert ok(response)["profile"]["following"] is False
    assert (
        ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]["following"]
        is False
    )


async def test_simultaneous_favorites(
    client: httpx.AsyncClient, jake: Account, jane: Account, isolated: bool
) -> None:
    article = await create_article(client, jake)
    url = f"/articles/{article['slug']}/favorite"

    responses = await asyncio.gather(
        *(client.post(url, headers=jane.headers) for _ in range(COPIES))
    )

    for response in responses:
        body = ok(response)["article"]
        assert body["favorited"] is True
        if isolated:
            assert body["favoritesCount"] == 1
    shown = ok(await client.get(f"/articles/{article['slug']}", headers=jane.headers))["article"]
    assert shown["favorited"] is True
    assert shown["favoritesCount"] == 1


async def test_simultaneous_unfavorites(
    client: httpx.AsyncClient, jake: Account, jane: Account, isolated: bool
) -> None:
    article = await create_article(client, jake)
    url = f"/articles/{article['slug']}/favorite"
    ok(await client.post(url, headers=jane.headers))

    responses = await asyncio.gather(
        *(client.delete(url, headers=jane.headers) for _ in range(COPIES))
    )

    for response in responses:
        body = ok(response)["article"]
        assert body["favorited"] is False
        if isolated:
            assert body["favoritesCount"] == 0
    shown = ok(await client.get(f"/articles/{article['slug']}", headers=jane.headers))["article"]
    assert shown["favorited"] is False
    assert shown["favoritesCount"] == 0


async def test_simultaneous_favorites_by_many_users(
    client: httpx.AsyncClient, jake: Account
) -> None:
    article = await create_article(client, jake)
    fans = [await register(client, f"fan{n}") for n in range(5)]
    url = f"/articles/{article['slug']}/favorite"

    responses = await asyncio.gather(*(client.post(url, headers=fan.headers) for fan in fans))

    for response in responses:
        ok(response)
    assert ok(await client.get(f"/articles/{article['slug']}"))["article"]["favoritesCount"] == 5


async def test_simultaneous_same_title_articles_get_distinct_slugs(
    client: httpx.AsyncClient, jake: Account
) -> None:
    created = await asyncio.gather(*(create_article(client, jake, "Race") for _ in range(COPIES)))

    slugs = {a["slug"] for a in created}
    assert len(slugs) == COPIES
    assert ok(await client.get("/articles"))["articlesCount"] == COPIES


async def test_simultaneous_registrations_of_one_name(client: httpx.AsyncClient) -> None:
    fields = [
        {
            "username": "racer" if n % 2 else "RACER",
            "email": f"racer{n}@example.com",
            "password": "password123",
        }
        for n in range(COPIES)
    ]

    responses = await asyncio.gather(*(client.post("/users", json={"user": f}) for f in fields))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (COPIES - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {"errors": {"username": ["has already been taken"]}}
