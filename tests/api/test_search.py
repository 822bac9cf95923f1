"""GET /api/search: full-text search in the article-list shape."""

from __future__ import annotations

import httpx
import pytest

from broadsheet.domain import search
from tests.api.helpers import (
    Account,
    assert_invalid,
    assert_page,
    create_article,
    favorite,
    ok,
    slugs,
)


async def test_search_finds_articles_by_their_words(
    client: httpx.AsyncClient, jake: Account
) -> None:
    dragon = await create_article(client, jake, "How to train your dragon")
    await create_article(client, jake, "Databases", description="Plans", body="Indexes")

    body = ok(await client.get("/search", params={"q": "dragons"}))

    [found] = assert_page(body, count=1)
    assert found == {key: value for key, value in dragon.items() if key != "body"}


async def test_an_edit_is_found_at_once_and_the_old_words_are_not(
    client: httpx.AsyncClient, jake: Account
) -> None:
    article = await create_article(client, jake, "Wyverns")
    await client.put(
        f"/articles/{article['slug']}",
        json={"article": {"title": "Griffins"}},
        headers=jake.headers,
    )

    assert ok(await client.get("/search", params={"q": "griffin"}))["articlesCount"] == 1
    assert ok(await client.get("/search", params={"q": "wyvern"}))["articlesCount"] == 0


async def test_a_signed_in_reader_sees_their_favorites(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake, "Dragons")
    await favorite(client, jane, article["slug"])

    [seen] = ok(await client.get("/search", params={"q": "dragon"}, headers=jane.headers))[
        "articles"
    ]
    [anonymous] = ok(await client.get("/search", params={"q": "dragon"}))["articles"]

    assert (seen["favorited"], seen["favoritesCount"]) == (True, 1)
    assert (anonymous["favorited"], anonymous["favoritesCount"]) == (False, 1)


async def test_pages_by_limit_and_offset(client: httpx.AsyncClient, jake: Account) -> None:
    for number in range(3):
        await create_article(client, jake, f"Dragon {number}")

    first = ok(await client.get("/search", params={"q": "dragon", "limit": 2}))
    rest = ok(await client.get("/search", params={"q": "dragon", "limit": 2, "offset": 2}))

    assert (first["articlesCount"], rest["articlesCount"]) == (3, 3)
    assert len(set(slugs(first)) | set(slugs(rest))) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": '"unclosed'}, "q"),
        ({"q": '"a prefix*"'}, "q"),
        ({"q": "*"}, "q"),
        ({"q": "a*"}, "q"),  # too short a prefix
        ({"q": "mid*dle"}, "q"),
        ({"q": "!!! ---"}, "q"),  # nothing to search for
        ({"q": "x" * (search.MAX_QUERY_LENGTH + 1)}, "q"),
        ({"q": " ".join(f"w{n}" for n in range(search.MAX_QUERY_TERMS + 1))}, "q"),
        ({"q": "dragon", "limit": 0}, "limit"),
        ({"q": "dragon", "offset": -1}, "offset"),
    ],
)
async def test_what_is_not_a_query_is_a_422_naming_it(
    client: httpx.AsyncClient, params: dict[str, str | int], field: str
) -> None:
    assert_invalid(await client.get("/search", params=params), field)


@pytest.mark.parametrize(
    "q",
    ["OR AND NOT", "NEAR(a b)", "a:*", "'; DROP TABLE article; --", '+-<>()~@""', "\\", "é*"],
)
async def test_engine_operators_are_words_or_nothing_never_an_error(
    client: httpx.AsyncClient, jake: Account, q: str
) -> None:
    await create_article(client, jake, "Or and not near")

    response = await client.get("/search", params={"q": q})

    assert response.status_code in {200, 422}, response.text
    if response.status_code == 422:
        assert_invalid(response, "q")
