"""GET /api/tags."""

from __future__ import annotations

import httpx

from tests.api.helpers import Account, create_article, ok


async def test_no_tags(client: httpx.AsyncClient) -> None:
    assert ok(await client.get("/tags")) == {"tags": []}


async def test_tags_in_use(client: httpx.AsyncClient, jake: Account) -> None:
    await create_article(client, jake, "One", tags=["dragons", "training"])

    body = ok(await client.get("/tags"))

    assert set(body) == {"tags"}
    assert sorted(body["tags"]) == ["dragons", "training"]


async def test_most_used_first(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    await create_article(client, jake, "One", tags=["alpha", "mid", "zeta"])
    await create_article(client, jake, "Two", tags=["mid", "zeta"])
    await create_article(client, jane, "Three", tags=["zeta"])

    assert ok(await client.get("/tags")) == {"tags": ["zeta", "mid", "alpha"]}


async def test_each_tag_once_and_trimmed(client: httpx.AsyncClient, jake: Account) -> None:
    await create_article(client, jake, "One", tags=[" dragons ", "dragons", ""])
    await create_article(client, jake, "Two", tags=["dragons"])

    assert ok(await client.get("/tags")) == {"tags": ["dragons"]}


async def test_every_tag_is_listed_never_capped(client: httpx.AsyncClient, jake: Account) -> None:
    names = [f"tag{n:03d}" for n in range(120)]
    for start in range(0, len(names), 30):  # an article has at most 32 tags
        await create_article(client, jake, f"Tags from {start}", tags=names[start : start + 30])

    tags = ok(await client.get("/tags"))["tags"]

    assert sorted(tags) == names


async def test_tags_need_no_token_and_ignore_none(client: httpx.AsyncClient, jake: Account) -> None:
    await create_article(client, jake, tags=["dragons"])

    assert ok(await client.get("/tags", headers=jake.headers)) == {"tags": ["dragons"]}
