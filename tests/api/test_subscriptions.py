"""Tag subscriptions and the wider feed: POST/DELETE /api/tags/{tag}/subscription,
GET /api/user/subscriptions, GET /api/articles/feed?include=tags."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import (
    Account,
    assert_invalid,
    assert_page,
    create_article,
    follow,
    ok,
    slugs,
)


async def _subscribe(client: httpx.AsyncClient, user: Account, tag: str) -> dict[str, object]:
    response = await client.post(f"/tags/{tag}/subscription", headers=user.headers)
    body: dict[str, object] = ok(response)
    return body


async def test_subscribing_adds_the_tags_articles_to_the_wider_feed_only(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    tagged = await create_article(client, jane, "Dragons", tags=["dragons"])
    await create_article(client, jane, "Other", tags=["cats"])

    assert await _subscribe(client, jake, "dragons") == {
        "subscription": {"tag": "dragons", "subscribed": True}
    }
    wider = ok(await client.get("/articles/feed", params={"include": "tags"}, headers=jake.headers))
    plain = ok(await client.get("/articles/feed", headers=jake.headers))

    assert_page(wider, count=1)
    assert slugs(wider) == [tagged["slug"]]
    assert_page(plain, count=0)


async def test_a_followed_and_subscribed_article_is_listed_once(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    both = await create_article(client, jane, "Both", tags=["dragons"])
    await follow(client, jake, jane.username)
    await _subscribe(client, jake, "dragons")

    wider = ok(await client.get("/articles/feed", params={"include": "tags"}, headers=jake.headers))

    assert slugs(wider) == [both["slug"]]
    assert wider["articlesCount"] == 1


async def test_subscriptions_are_listed_and_can_be_taken_back(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    await follow(client, jake, jane.username)
    await _subscribe(client, jake, "dragons")
    await _subscribe(client, jake, "a/b")  # a tag may hold a slash
    await _subscribe(client, jake, "dragons")  # idempotent
    removed = ok(await client.delete("/tags/a/b/subscription", headers=jake.headers))

    listed = ok(await client.get("/user/subscriptions", headers=jake.headers))

    assert removed == {"subscription": {"tag": "a/b", "subscribed": False}}
    assert listed["subscriptions"]["tags"] == ["dragons"]
    assert [p["username"] for p in listed["subscriptions"]["authors"]] == [jane.username]
    assert listed["subscriptions"]["authors"][0]["following"] is True


async def test_subscriptions_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.post("/tags/dragons/subscription")).status_code == 401
    assert (await client.get("/user/subscriptions")).status_code == 401


@pytest.mark.parametrize("tag", [" ", "x" * 65])
async def test_a_tag_no_article_could_have_is_a_422(
    client: httpx.AsyncClient, jake: Account, tag: str
) -> None:
    assert_invalid(await client.post(f"/tags/{tag}/subscription", headers=jake.headers), "tag")


async def test_the_feed_includes_only_what_it_knows(
    client: httpx.AsyncClient, jake: Account
) -> None:
    response = await client.get("/articles/feed", params={"include": "all"}, headers=jake.headers)
    assert_invalid(response, "include")
