"""Creating, reading, updating and deleting one article; slugs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    MISSING_TOKEN,
    SLUG,
    Account,
    add_comment,
    assert_article,
    assert_error,
    assert_invalid,
    assert_no_content,
    assert_page,
    assert_profile,
    blank,
    create_article,
    favorite,
    follow,
    forbidden,
    not_found,
    ok,
)

NEW_ARTICLE = {
    "title": "How to train your dragon",
    "description": "Ever wonder how?",
    "body": "You have to believe",
    "tagList": ["reactjs", "angularjs", "dragons"],
}


async def put(
    client: httpx.AsyncClient, account: Account, slug: str, **fields: Any
) -> httpx.Response:
    return await client.put(f"/articles/{slug}", json={"article": fields}, headers=account.headers)


# --- create -------------------------------------------------------------------------------


async def test_create_returns_the_article_with_201(
    client: httpx.AsyncClient, jake: Account
) -> None:
    response = await client.post("/articles", json={"article": NEW_ARTICLE}, headers=jake.headers)

    body = ok(response, 201)
    assert set(body) == {"article"}
    article = body["article"]
    assert_article(article)
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["title"] == "How to train your dragon"
    assert article["description"] == "Ever wonder how?"
    assert article["body"] == "You have to believe"
    assert article["tagList"] == ["angularjs", "dragons", "reactjs"]
    assert article["createdAt"] == article["updatedAt"]
    assert article["favorited"] is False
    assert article["favoritesCount"] == 0
    assert article["author"] == {"username": "jake", "bio": None, "image": None, "following": False}


async def test_create_without_tags_has_an_empty_tag_list(
    client: httpx.AsyncClient, jake: Account
) -> None:
    article = await create_article(client, jake)

    assert article["tagList"] == []


async def test_create_with_empty_tag_list(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake, tags=[])

    assert article["tagList"] == []


async def test_tags_are_trimmed_deduplicated_and_sorted(
    client: httpx.AsyncClient, jake: Account
) -> None:
    tags = ["  zebra ", "dragons", "", "   ", "dragons", " dragons", "apple"]

    article = await create_article(client, jake, tags=tags)

    assert article["tagList"] == ["apple", "dragons", "zebra"]
    shown = ok(await client.get(f"/articles/{article['slug']}"))["article"]
    assert shown["tagList"] == ["apple", "dragons", "zebra"]


@pytest.mark.parametrize("field", ["title", "description", "body"])
async def test_create_missing_field_is_blank(
    client: httpx.AsyncClient, jake: Account, field: str
) -> None:
    fields = {k: v for k, v in NEW_ARTICLE.items() if k != field}

    response = await client.post("/articles", json={"article": fields}, headers=jake.headers)

    assert_error(response, 422, blank(field))


@pytest.mark.parametrize("field", ["title", "description", "body"])
@pytest.mark.parametrize("value", ["", "   ", None])
async def test_create_empty_field_is_blank(
    client: httpx.AsyncClient, jake: Account, field: str, value: str | None
) -> None:
    fields = {**NEW_ARTICLE, field: value}

    response = await client.post("/articles", json={"article": fields}, headers=jake.headers)

    assert_error(response, 422, blank(field))
    assert_page(ok(await client.get("/articles")), count=0)


async def test_create_requires_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/articles", json={"article": NEW_ARTICLE})

    assert_error(response, 401, MISSING_TOKEN)


# --- slugs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("How to train your dragon", "how-to-train-your-dragon"),
        ("Hello, World!", "hello-world"),
        ("  Spaces   everywhere  ", "spaces-everywhere"),
        ("UPPER lower MiXeD", "upper-lower-mixed"),
        ("Version 2 is out", "version-2-is-out"),
    ],
)
async def test_slug_comes_from_the_title(
    client: httpx.AsyncClient, jake: Account, title: str, slug: str
) -> None:
    article = await create_article(client, jake, title)

    assert article["slug"] == slug
    ok(await client.get(f"/articles/{slug}"))


@pytest.mark.parametrize(
    "title", ["Café déjà vu", "Über naïve façade", "日本語のタイトル", "!!!", "🐉🐉"]
)
async def test_slug_is_lower_case_ascii_even_for_other_titles(
    client: httpx.AsyncClient, jake: Account, title: str
) -> None:
    article = await create_article(client, jake, title)

    assert SLUG.match(article["slug"]), article["slug"]
    assert article["title"] == title
    assert ok(await client.get(f"/articles/{article['slug']}"))["article"]["title"] == title


async def test_duplicate_titles_get_distinct_slugs(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    first = await create_article(client, jake, "Same title")
    second = await create_article(client, jake, "Same title")
    third = await create_article(client, jane, "Same title")

    assert first["slug"] == "same-title"
    assert len({first["slug"], second["slug"], third["slug"]}) == 3
    for article in (second, third):
        assert article["slug"].startswith("same-title-")
        assert SLUG.match(article["slug"])
        shown = ok(await client.get(f"/articles/{article['slug']}"))["article"]
        assert shown["title"] == "Same title"
    assert_page(ok(await client.get("/articles")), count=3)


async def test_a_title_feed_does_not_take_the_feed_route(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake, "Feed")

    assert article["slug"] != "feed"
    assert SLUG.match(article["slug"])
    shown = ok(await client.get(f"/articles/{article['slug']}"))["article"]
    assert shown["title"] == "Feed"
    assert_error(await client.get("/articles/feed"), 401, MISSING_TOKEN)
    assert_page(ok(await client.get("/articles/feed", headers=jane.headers)), count=0)


async def test_changing_the_title_changes_the_slug(
    client: httpx.AsyncClient, jake: Account
) -> None:
    created = await create_article(client, jake, "Old title")

    article = ok(await put(client, jake, created["slug"], title="Brand new title"))["article"]

    assert article["slug"] == "brand-new-title"
    assert article["title"] == "Brand new title"
    ok(await client.get("/articles/brand-new-title"))
    assert_error(await client.get("/articles/old-title"), 404, not_found("article"))


async def test_changing_the_title_to_a_taken_one_gets_a_distinct_slug(
    client: httpx.AsyncClient, jake: Account
) -> None:
    await create_article(client, jake, "Taken")
    other = await create_article(client, jake, "Other")

    article = ok(await put(client, jake, other["slug"], title="Taken"))["article"]

    assert article["slug"] != "taken"
    assert article["slug"].startswith("taken-")
    assert ok(await client.get("/articles/taken"))["article"]["title"] == "Taken"


async def test_keeping_the_title_keeps_the_slug(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake, "Stable")

    article = ok(await put(client, jake, "stable", title="Stable", body="new body"))["article"]

    assert article["slug"] == created["slug"] == "stable"


# --- show ---------------------------------------------------------------------------------


async def test_show_article_anonymously(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake, tags=["dragons", "training"])

    body = ok(await client.get(f"/articles/{created['slug']}"))

    assert set(body) == {"article"}
    assert_article(body["article"])
    assert body["article"] == created


async def test_show_article_as_a_follower_who_favorited(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake)
    await follow(client, jane, "jake")
    await favorite(client, jane, created["slug"])

    article = ok(await client.get(f"/articles/{created['slug']}", headers=jane.headers))["article"]

    assert article["favorited"] is True
    assert article["favoritesCount"] == 1
    assert_profile(article["author"], username="jake", following=True)
    anonymous = ok(await client.get(f"/articles/{created['slug']}"))["article"]
    assert anonymous["favorited"] is False
    assert anonymous["favoritesCount"] == 1
    assert anonymous["author"]["following"] is False


async def test_show_unknown_article_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    assert_error(await client.get("/articles/no-such-article"), 404, not_found("article"))
    assert_error(
        await client.get("/articles/no-such-article", headers=jake.headers),
        404,
        not_found("article"),
    )


# --- update -------------------------------------------------------------------------------


async def test_update_fields(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake, tags=["dragons"])

    article = ok(
        await put(client, jake, created["slug"], description="New description", body="New body")
    )["article"]

    assert_article(article)
    assert article["slug"] == created["slug"]
    assert article["title"] == created["title"]
    assert article["description"] == "New description"
    assert article["body"] == "New body"
    assert article["tagList"] == ["dragons"]
    assert ok(await client.get(f"/articles/{created['slug']}"))["article"] == article


async def test_update_changes_updated_at_but_not_created_at(
    client: httpx.AsyncClient, jake: Account
) -> None:
    created = await create_article(client, jake)
    await asyncio.sleep(0.005)

    article = ok(await put(client, jake, created["slug"], body="Changed"))["article"]

    assert article["createdAt"] == created["createdAt"]
    assert article["updatedAt"] != created["updatedAt"]
    assert article["updatedAt"] > article["createdAt"]
    shown = ok(await client.get(f"/articles/{created['slug']}"))["article"]
    assert shown["createdAt"] == created["createdAt"]
    assert shown["updatedAt"] == article["updatedAt"]


async def test_each_update_a_few_milliseconds_apart_moves_updated_at(
    client: httpx.AsyncClient, jake: Account
) -> None:
    created = await create_article(client, jake)
    await asyncio.sleep(0.003)
    first = ok(await put(client, jake, created["slug"], body="One"))["article"]
    await asyncio.sleep(0.003)

    second = ok(await put(client, jake, created["slug"], body="Two"))["article"]

    assert created["updatedAt"] < first["updatedAt"] < second["updatedAt"]
    assert second["createdAt"] == created["createdAt"]


async def test_update_omitting_tags_keeps_them(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake, tags=["b", "a"])

    article = ok(await put(client, jake, created["slug"], body="x"))["article"]

    assert article["tagList"] == ["a", "b"]


async def test_update_with_empty_tags_removes_them(
    client: httpx.AsyncClient, jake: Account
) -> None:
    created = await create_article(client, jake, tags=["b", "a"])

    article = ok(await put(client, jake, created["slug"], tagList=[]))["article"]

    assert article["tagList"] == []
    assert ok(await client.get(f"/articles/{created['slug']}"))["article"]["tagList"] == []
    assert_page(ok(await client.get("/articles", params={"tag": "a"})), count=0)


async def test_update_replaces_tags(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake, tags=["old", "kept"])

    article = ok(await put(client, jake, created["slug"], tagList=["new", "kept", " new "]))[
        "article"
    ]

    assert article["tagList"] == ["kept", "new"]
    assert_page(ok(await client.get("/articles", params={"tag": "old"})), count=0)
    assert_page(ok(await client.get("/articles", params={"tag": "new"})), count=1)


async def test_update_keeps_favorites(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake, "Before")
    await favorite(client, jane, created["slug"])

    article = ok(await put(client, jake, created["slug"], title="After"))["article"]

    assert article["favoritesCount"] == 1
    shown = ok(await client.get(f"/articles/{article['slug']}", headers=jane.headers))["article"]
    assert shown["favorited"] is True


@pytest.mark.parametrize("field", ["title", "description", "body"])
@pytest.mark.parametrize("value", ["", None])
async def test_update_to_blank_is_422(
    client: httpx.AsyncClient, jake: Account, field: str, value: str | None
) -> None:
    created = await create_article(client, jake)

    assert_error(await put(client, jake, created["slug"], **{field: value}), 422, blank(field))

    assert ok(await client.get(f"/articles/{created['slug']}"))["article"] == created


async def test_update_someone_elses_article_is_403(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake)

    response = await put(client, jane, created["slug"], title="Hijacked")

    assert_error(response, 403, forbidden("article"))
    assert ok(await client.get(f"/articles/{created['slug']}"))["article"] == created


async def test_update_unknown_article_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    response = await put(client, jake, "no-such-article", title="x")

    assert_error(response, 404, not_found("article"))


async def test_update_requires_a_token(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake)

    response = await client.put(f"/articles/{created['slug']}", json={"article": {"title": "x"}})

    assert_error(response, 401, MISSING_TOKEN)


@pytest.mark.parametrize(
    "fields",
    [
        {"tagList": None},
        {"tagList": "dragons"},
        {"tagList": [1, 2]},
        {"title": 42},
        {"body": ["a"]},
    ],
)
async def test_update_wrong_types_are_422(
    client: httpx.AsyncClient, jake: Account, fields: dict[str, Any]
) -> None:
    created = await create_article(client, jake)

    assert_invalid(await put(client, jake, created["slug"], **fields), next(iter(fields)))


# --- delete -------------------------------------------------------------------------------


async def test_delete_article(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake)

    assert_no_content(await client.delete(f"/articles/{created['slug']}", headers=jake.headers))

    assert_error(await client.get(f"/articles/{created['slug']}"), 404, not_found("article"))
    assert_page(ok(await client.get("/articles")), count=0)


async def test_delete_removes_comments_and_favorites(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake, tags=["gone"])
    await add_comment(client, jane, created["slug"])
    await favorite(client, jane, created["slug"])

    assert_no_content(await client.delete(f"/articles/{created['slug']}", headers=jake.headers))

    assert_error(
        await client.get(f"/articles/{created['slug']}/comments"), 404, not_found("article")
    )
    assert_page(ok(await client.get("/articles", params={"favorited": "jane"})), count=0)
    assert_page(ok(await client.get("/articles", params={"tag": "gone"})), count=0)


async def test_a_new_article_with_the_old_slug_starts_clean(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake, "Reborn")
    await add_comment(client, jane, created["slug"])
    await favorite(client, jane, created["slug"])
    assert_no_content(await client.delete("/articles/reborn", headers=jake.headers))

    again = await create_article(client, jake, "Reborn")

    assert again["favoritesCount"] == 0
    shown = ok(await client.get(f"/articles/{again['slug']}", headers=jane.headers))["article"]
    assert shown["favorited"] is False
    assert ok(await client.get(f"/articles/{again['slug']}/comments")) == {"comments": []}


async def test_delete_someone_elses_article_is_403(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake)

    response = await client.delete(f"/articles/{created['slug']}", headers=jane.headers)

    assert_error(response, 403, forbidden("article"))
    ok(await client.get(f"/articles/{created['slug']}"))


async def test_delete_unknown_article_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    response = await client.delete("/articles/no-such-article", headers=jake.headers)

    assert_error(response, 404, not_found("article"))


async def test_delete_requires_a_token(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake)

    assert_error(await client.delete(f"/articles/{created['slug']}"), 401, MISSING_TOKEN)
    ok(await client.get(f"/articles/{created['slug']}"))


async def test_delete_twice_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    created = await create_article(client, jake)
    assert_no_content(await client.delete(f"/articles/{created['slug']}", headers=jake.headers))

    response = await client.delete(f"/articles/{created['slug']}", headers=jake.headers)

    assert_error(response, 404, not_found("article"))
