"""POST and DELETE /api/articles/:slug/favorite."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import (
    MISSING_TOKEN,
    Account,
    assert_article,
    assert_error,
    create_article,
    favorite,
    not_found,
    ok,
    register,
)


async def test_favorite(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    created = await create_article(client, jake)

    body = ok(await client.post(f"/articles/{created['slug']}/favorite", headers=jane.headers))

    assert set(body) == {"article"}
    article = body["article"]
    assert_article(article)
    assert article["favorited"] is True
    assert article["favoritesCount"] == 1
    assert article["slug"] == created["slug"]
    assert article["body"] == created["body"]


async def test_favorite_twice_is_idempotent(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake)
    await favorite(client, jane, created["slug"])

    article = await favorite(client, jane, created["slug"])

    assert article["favorited"] is True
    assert article["favoritesCount"] == 1
    shown = ok(await client.get(f"/articles/{created['slug']}"))["article"]
    assert shown["favoritesCount"] == 1


async def test_favorites_count_counts_users(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake)
    bob = await register(client, "bob")
    await favorite(client, jane, created["slug"])
    await favorite(client, bob, created["slug"])

    article = await favorite(client, jake, created["slug"])

    assert article["favorited"] is True
    assert article["favoritesCount"] == 3
    for viewer in (jake, jane, bob):
        shown = ok(await client.get(f"/articles/{created['slug']}", headers=viewer.headers))
        assert shown["article"]["favorited"] is True


async def test_unfavorite(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    created = await create_article(client, jake)
    await favorite(client, jane, created["slug"])
    await favorite(client, jake, created["slug"])

    body = ok(await client.delete(f"/articles/{created['slug']}/favorite", headers=jane.headers))

    assert set(body) == {"article"}
    assert_article(body["article"])
    assert body["article"]["favorited"] is False
    assert body["article"]["favoritesCount"] == 1
    shown = ok(await client.get(f"/articles/{created['slug']}", headers=jake.headers))["article"]
    assert shown["favorited"] is True
    assert shown["favoritesCount"] == 1


async def test_unfavorite_when_not_favorited_is_fine(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake)

    body = ok(await client.delete(f"/articles/{created['slug']}/favorite", headers=jane.headers))

    assert body["article"]["favorited"] is False
    assert body["article"]["favoritesCount"] == 0


async def test_unfavorite_twice_is_fine(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake)
    await favorite(client, jane, created["slug"])
    url = f"/articles/{created['slug']}/favorite"
    ok(await client.delete(url, headers=jane.headers))

    body = ok(await client.delete(url, headers=jane.headers))

    assert body["article"]["favorited"] is False
    assert body["article"]["favoritesCount"] == 0


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_favorite_unknown_article_is_404(
    client: httpx.AsyncClient, jake: Account, method: str
) -> None:
    response = await client.request(
        method, "/articles/no-such-article/favorite", headers=jake.headers
    )

    assert_error(response, 404, not_found("article"))


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_favorite_requires_a_token(
    client: httpx.AsyncClient, jake: Account, method: str
) -> None:
    created = await create_article(client, jake)

    response = await client.request(method, f"/articles/{created['slug']}/favorite")

    assert_error(response, 401, MISSING_TOKEN)
    assert ok(await client.get(f"/articles/{created['slug']}"))["article"]["favoritesCount"] == 0


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_favorite_unknown_article_without_token_is_401(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, "/articles/no-such-article/favorite")

    assert_error(response, 401, MISSING_TOKEN)


async def test_favorite_ignores_a_stray_body(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    created = await create_article(client, jake)

    response = await client.post(
        f"/articles/{created['slug']}/favorite", json={"favorited": False}, headers=jane.headers
    )

    assert ok(response)["article"]["favorited"] is True
