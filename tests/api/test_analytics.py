"""GET /api/analytics/tags, /api/analytics/trending and /api/profiles/{username}/stats."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from broadsheet.domain import rules
from tests.api.helpers import (
    TIMESTAMP,
    Account,
    assert_article,
    assert_error,
    assert_invalid,
    assert_profile,
    create_article,
    favorite,
    follow,
    not_found,
    ok,
)


def _parsed(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_tags_published_this_week_with_the_week_before(
    client: httpx.AsyncClient, jake: Account
) -> None:
    await create_article(client, jake, "One", tags=["dragons", "training"])
    await create_article(client, jake, "Two", tags=["dragons"])

    body = ok(await client.get("/analytics/tags"))

    assert set(body) == {"window", "tags"}
    window = body["window"]
    assert set(window) == {"from", "to", "days"}
    assert TIMESTAMP.match(window["from"])
    assert TIMESTAMP.match(window["to"])
    assert window["days"] == rules.DEFAULT_WINDOW_DAYS
    assert (_parsed(window["to"]) - _parsed(window["from"])).days == rules.DEFAULT_WINDOW_DAYS
    assert body["tags"] == [
        {"tag": "dragons", "articles": 2, "previous": 0, "change": 2},
        {"tag": "training", "articles": 1, "previous": 0, "change": 1},
    ]
    limited = ok(await client.get("/analytics/tags", params={"days": 1, "limit": 1}))
    assert [t["tag"] for t in limited["tags"]] == ["dragons"]
    assert limited["window"]["days"] == 1


async def test_trending_articles_with_their_favorites_this_week(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    loved = await create_article(client, jake, "Loved")
    liked = await create_article(client, jake, "Liked")
    await create_article(client, jake, "Ignored")
    await favorite(client, jane, loved["slug"])
    await favorite(client, jake, loved["slug"])
    await favorite(client, jane, liked["slug"])

    body = ok(await client.get("/analytics/trending", headers=jane.headers))

    assert set(body) == {"window", "articles"}
    articles = body["articles"]
    assert [(a["slug"], a["favoritesInWindow"], a["favorited"]) for a in articles] == [
        (loved["slug"], 2, True),
        (liked["slug"], 1, True),
    ]
    for article in articles:
        assert_article({k: v for k, v in article.items() if k != "favoritesInWindow"}, listed=True)


async def test_an_authors_stats(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    first = await create_article(client, jake, "First")
    await create_article(client, jake, "Second")
    await favorite(client, jane, first["slug"])
    await follow(client, jane, jake.username)

    body = ok(await client.get(f"/profiles/{jake.username}/stats", headers=jane.headers))

    stats = body["stats"]
    assert set(stats) == {
        "profile", "articles", "favoritesReceived", "followers", "following", "topArticles"
    }  # fmt: skip
    assert_profile(stats["profile"], username=jake.username, following=True)
    assert (stats["articles"], stats["favoritesReceived"]) == (2, 1)
    assert (stats["followers"], stats["following"]) == (1, 0)
    assert next(a["slug"] for a in stats["topArticles"]) == first["slug"]
    assert len(stats["topArticles"]) == 2


async def test_stats_of_nobody_are_a_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/profiles/nobody/stats"), 404, not_found("profile"))


@pytest.mark.parametrize("path", ["/analytics/tags", "/analytics/trending"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": rules.MAX_WINDOW_DAYS + 1}, "days"),
        ({"limit": 0}, "limit"),
        ({"limit": rules.MAX_TOP + 1}, "limit"),
    ],
)
async def test_a_window_or_limit_out_of_range_is_a_422(
    client: httpx.AsyncClient, path: str, params: dict[str, int], field: str
) -> None:
    assert_invalid(await client.get(path, params=params), field)
