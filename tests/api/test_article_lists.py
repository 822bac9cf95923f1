"""GET /api/articles (filters, paging, order) and GET /api/articles/feed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.helpers import (
    INVALID_TOKEN,
    MISSING_TOKEN,
    Account,
    assert_error,
    assert_invalid,
    assert_page,
    create_article,
    create_articles,
    favorite,
    follow,
    ok,
    register,
    slugs,
)

BAD_PAGING = [
    ({"limit": 0}, "limit"),
    ({"limit": 101}, "limit"),
    ({"limit": -1}, "limit"),
    ({"limit": "abc"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"offset": -1}, "offset"),
    ({"offset": "abc"}, "offset"),
]


async def test_empty_list(client: httpx.AsyncClient) -> None:
    body = ok(await client.get("/articles"))

    assert body == {"articles": [], "articlesCount": 0}


async def test_list_items_have_every_key_but_body(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake, tags=["b", "a"])

    articles = assert_page(ok(await client.get("/articles")), count=1)

    assert len(articles) == 1
    item = articles[0]
    assert "body" not in item
    assert item == {k: v for k, v in created.items() if k != "body"}


async def test_list_is_newest_first(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_articles(client, jake, 5)

    body = ok(await client.get("/articles"))

    assert_page(body, count=5)
    assert slugs(body) == [a["slug"] for a in reversed(created)]
    stamps = [a["createdAt"] for a in body["articles"]]
    assert stamps == sorted(stamps, reverse=True)


async def test_default_limit_is_20_and_count_is_the_total(
    client: httpx.AsyncClient, jake: Account
) -> None:
    created = await create_articles(client, jake, 21)

    body = ok(await client.get("/articles"))

    articles = assert_page(body, count=21)
    assert len(articles) == 20
    assert slugs(body) == [a["slug"] for a in reversed(created)][:20]


async def test_limit_and_offset(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_articles(client, jake, 5)
    newest_first = [a["slug"] for a in reversed(created)]

    body = ok(await client.get("/articles", params={"limit": 2, "offset": 1}))

    assert_page(body, count=5)
    assert slugs(body) == newest_first[1:3]


async def test_offset_past_the_end_is_an_empty_page(
    client: httpx.AsyncClient, jake: Account
) -> None:
    await create_articles(client, jake, 3)

    body = ok(await client.get("/articles", params={"offset": 10}))

    assert body == {"articles": [], "articlesCount": 3}


async def test_a_huge_offset_is_an_empty_page(client: httpx.AsyncClient, jake: Account) -> None:
    await create_articles(client, jake, 2)

    body = ok(await client.get("/articles", params={"offset": 2**31 + 1}))

    assert body == {"articles": [], "articlesCount": 2}


@pytest.mark.parametrize("param", ["limit", "offset"])
async def test_an_enormous_number_is_never_a_server_error(
    client: httpx.AsyncClient, jake: Account, param: str
) -> None:
    """``offset`` has no upper bound in the contract; a value no database integer holds is
    either an empty page or a 422, never a 500."""
    await create_articles(client, jake, 1)

    response = await client.get("/articles", params={param: "9" * 40})

    if param == "limit" or response.status_code == 422:
        assert_invalid(response, param)
    else:
        assert ok(response) == {"articles": [], "articlesCount": 1}


async def test_paging_visits_every_article_once(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_articles(client, jake, 7)
    seen: list[str] = []

    for offset in range(0, 8, 2):
        body = ok(await client.get("/articles", params={"limit": 2, "offset": offset}))
        assert_page(body, count=7)
        seen.extend(slugs(body))

    assert seen == [a["slug"] for a in reversed(created)]


async def test_paging_with_simultaneous_articles_never_repeats_or_skips(
    client: httpx.AsyncClient, jake: Account
) -> None:
    titles = [f"Burst {n}" for n in range(12)]
    await asyncio.gather(*(create_article(client, jake, t) for t in titles))

    seen: list[str] = []
    for offset in range(0, 12, 5):
        seen.extend(slugs(ok(await client.get("/articles", params={"limit": 5, "offset": offset}))))
    again: list[str] = []
    for offset in range(0, 12, 5):
        again.extend(
            slugs(ok(await client.get("/articles", params={"limit": 5, "offset": offset})))
        )

    assert len(seen) == 12
    assert len(set(seen)) == 12
    assert seen == again
    everything = slugs(ok(await client.get("/articles", params={"limit": 100})))
    assert seen == everything


@pytest.mark.parametrize(("limit", "count"), [(1, 1), (100, 3)])
async def test_limit_bounds_are_accepted(
    client: httpx.AsyncClient, jake: Account, limit: int, count: int
) -> None:
    await create_articles(client, jake, 3)

    articles = assert_page(ok(await client.get("/articles", params={"limit": limit})), count=3)

    assert len(articles) == count


@pytest.mark.parametrize(("params", "field"), BAD_PAGING)
async def test_bad_paging_is_422(
    client: httpx.AsyncClient, params: dict[str, int | str], field: str
) -> None:
    assert_invalid(await client.get("/articles", params=params), field)


async def test_filter_by_tag(client: httpx.AsyncClient, jake: Account) -> None:
    dragons = await create_article(client, jake, "Dragons", tags=["dragons", "training"])
    await create_article(client, jake, "Dragon", tags=["dragon"])
    await create_article(client, jake, "Untagged")

    body = ok(await client.get("/articles", params={"tag": "dragons"}))

    assert_page(body, count=1)
    assert slugs(body) == [dragons["slug"]]
    assert body["articles"][0]["tagList"] == ["dragons", "training"]


@pytest.mark.parametrize("tag", ["dragon", "Dragons", "drag", "ragons", "dragons "])
async def test_tag_filter_is_an_exact_match(
    client: httpx.AsyncClient, jake: Account, tag: str
) -> None:
    await create_article(client, jake, tags=["dragons"])

    assert_page(ok(await client.get("/articles", params={"tag": tag})), count=0)


async def test_filter_by_author(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    by_jake = await create_articles(client, jake, 2, prefix="Jake")
    await create_articles(client, jane, 3, prefix="Jane")

    body = ok(await client.get("/articles", params={"author": "jake"}))

    assert_page(body, count=2)
    assert slugs(body) == [a["slug"] for a in reversed(by_jake)]
    assert {a["author"]["username"] for a in body["articles"]} == {"jake"}


async def test_author_filter_is_an_exact_match(client: httpx.AsyncClient, jake: Account) -> None:
    await register(client, "jakeson")
    await create_article(client, jake)

    for author in ("jak", "jakes", "jakeson"):
        assert_page(ok(await client.get("/articles", params={"author": author})), count=0)


async def test_filter_by_favorited(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    liked = await create_article(client, jake, "Liked")
    await create_article(client, jake, "Ignored")
    await favorite(client, jane, liked["slug"])

    body = ok(await client.get("/articles", params={"favorited": "jane"}))

    assert_page(body, count=1)
    assert slugs(body) == [liked["slug"]]
    assert body["articles"][0]["favoritesCount"] == 1
    assert body["articles"][0]["favorited"] is False
    assert_page(ok(await client.get("/articles", params={"favorited": "jake"})), count=0)


async def test_favorited_filter_reflects_unfavorite(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake)
    await favorite(client, jane, article["slug"])
    ok(await client.delete(f"/articles/{article['slug']}/favorite", headers=jane.headers))

    assert_page(ok(await client.get("/articles", params={"favorited": "jane"})), count=0)


@pytest.mark.parametrize("params", [{"tag": "nope"}, {"author": "nobody"}, {"favorited": "nobody"}])
async def test_unknown_filter_value_is_an_empty_list(
    client: httpx.AsyncClient, jake: Account, params: dict[str, str]
) -> None:
    await create_article(client, jake, tags=["dragons"])

    body = ok(await client.get("/articles", params=params))

    assert body == {"articles": [], "articlesCount": 0}


async def test_filters_combine(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    wanted = await create_article(client, jake, "Wanted", tags=["dragons"])
    other_tag = await create_article(client, jake, "Other tag", tags=["cats"])
    other_author = await create_article(client, jane, "Other author", tags=["dragons"])
    for article in (wanted, other_tag, other_author):
        await favorite(client, jane, article["slug"])
    await create_article(client, jake, "Not favorited", tags=["dragons"])

    params = {"tag": "dragons", "author": "jake", "favorited": "jane"}
    body = ok(await client.get("/articles", params=params))

    assert_page(body, count=1)
    assert slugs(body) == [wanted["slug"]]


async def test_count_with_filter_and_paging_is_the_filtered_total(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    await create_articles(client, jake, 4, prefix="Jake")
    await create_articles(client, jane, 2, prefix="Jane")

    body = ok(await client.get("/articles", params={"author": "jake", "limit": 1, "offset": 1}))

    articles = assert_page(body, count=4)
    assert len(articles) == 1


async def test_list_is_relative_to_the_viewer(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake)
    await favorite(client, jane, article["slug"])
    await follow(client, jane, "jake")

    mine = ok(await client.get("/articles", headers=jane.headers))["articles"][0]
    anonymous = ok(await client.get("/articles"))["articles"][0]

    assert mine["favorited"] is True
    assert mine["favoritesCount"] == 1
    assert mine["author"]["following"] is True
    assert anonymous["favorited"] is False
    assert anonymous["favoritesCount"] == 1
    assert anonymous["author"]["following"] is False


# --- feed ---------------------------------------------------------------------------------


async def test_feed_requires_a_token(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/articles/feed"), 401, MISSING_TOKEN)


async def test_feed_with_a_bad_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/articles/feed", headers={"Authorization": "Token nonsense"})

    assert_error(response, 401, INVALID_TOKEN)


async def test_feed_is_empty_when_following_nobody(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    await create_article(client, jake)

    body = ok(await client.get("/articles/feed", headers=jane.headers))

    assert body == {"articles": [], "articlesCount": 0}


async def test_feed_has_followed_authors_newest_first(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    bob = await register(client, "bob")
    jakes = await create_articles(client, jake, 2, prefix="Jake")
    bobs = await create_articles(client, bob, 2, prefix="Bob")
    await create_articles(client, jane, 2, prefix="Jane")
    more_jake = await create_articles(client, jake, 1, prefix="Later jake")
    await follow(client, jane, "jake")
    await follow(client, jane, "bob")

    body = ok(await client.get("/articles/feed", headers=jane.headers))

    expected = [a["slug"] for a in reversed(jakes + bobs + more_jake)]
    assert_page(body, count=5)
    assert slugs(body) == expected
    assert all(a["author"]["following"] is True for a in body["articles"])
    assert all("body" not in a for a in body["articles"])


async def test_feed_paging(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    created = await create_articles(client, jake, 5)
    await follow(client, jane, "jake")

    body = ok(
        await client.get("/articles/feed", params={"limit": 2, "offset": 2}, headers=jane.headers)
    )

    assert_page(body, count=5)
    assert slugs(body) == [a["slug"] for a in reversed(created)][2:4]


async def test_feed_default_limit_is_20(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    await create_articles(client, jake, 21)
    await follow(client, jane, "jake")

    articles = assert_page(ok(await client.get("/articles/feed", headers=jane.headers)), count=21)

    assert len(articles) == 20


async def test_feed_drops_unfollowed_authors(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    await create_article(client, jake)
    await follow(client, jane, "jake")
    ok(await client.delete("/profiles/jake/follow", headers=jane.headers))

    body = ok(await client.get("/articles/feed", headers=jane.headers))

    assert body == {"articles": [], "articlesCount": 0}


async def test_feed_shows_favorited(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake)
    await follow(client, jane, "jake")
    await favorite(client, jane, article["slug"])

    item = ok(await client.get("/articles/feed", headers=jane.headers))["articles"][0]

    assert item["favorited"] is True
    assert item["favoritesCount"] == 1


@pytest.mark.parametrize(("params", "field"), BAD_PAGING)
async def test_feed_bad_paging_is_422(
    client: httpx.AsyncClient, jane: Account, params: dict[str, int | str], field: str
) -> None:
    assert_invalid(await client.get("/articles/feed", params=params, headers=jane.headers), field)
