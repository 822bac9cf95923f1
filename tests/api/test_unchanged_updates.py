"""An update that changes nothing moves nothing: not ``updatedAt``, not the slug."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.api.helpers import Account, create_article, ok


@pytest.mark.parametrize(
    "sent",
    [
        {},
        {"title": "How to train your dragon"},
        {"description": "Ever wonder how?", "body": "You have to believe"},
        {"tagList": ["b", "a"]},
        {"tagList": ["a", "b", "a", " b "]},
        {
            "title": "How to train your dragon",
            "description": "Ever wonder how?",
            "body": "You have to believe",
            "tagList": ["a", "b"],
        },
    ],
    ids=["empty", "same-title", "same-text", "same-tags", "same-tags-unnormalised", "all-same"],
)
async def test_a_put_that_changes_nothing_keeps_updated_at(
    client: httpx.AsyncClient, jake: Account, sent: dict[str, Any]
) -> None:
    article = await create_article(client, jake, tags=["a", "b"])
    url = f"/articles/{article['slug']}"
    await asyncio.sleep(0.01)  # a real edit now would get a later updatedAt

    updated = ok(await client.put(url, json={"article": sent}, headers=jake.headers))["article"]

    assert updated["updatedAt"] == article["updatedAt"]
    assert updated["slug"] == article["slug"]
    shown = ok(await client.get(url))["article"]
    assert shown == {**article, "favorited": False}


async def test_a_put_that_changes_one_field_moves_updated_at(
    client: httpx.AsyncClient, jake: Account
) -> None:
    """The counterpart: a real change among unchanged ones does move it."""
    article = await create_article(client, jake, tags=["a"])
    url = f"/articles/{article['slug']}"
    await asyncio.sleep(0.01)

    sent = {"title": article["title"], "body": "changed", "tagList": ["a"]}
    updated = ok(await client.put(url, json={"article": sent}, headers=jake.headers))["article"]

    assert updated["updatedAt"] > article["updatedAt"]
    assert updated["body"] == "changed"
    assert updated["slug"] == article["slug"]
