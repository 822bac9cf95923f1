"""The ``Favorites`` port: idempotent, also under concurrency, counted per article."""

from __future__ import annotations

import asyncio

import pytest

from broadsheet.domain.errors import NotFound
from broadsheet.domain.models import Article, User
from broadsheet.domain.ports import Storage
from broadsheet.services import retry
from tests import factories


async def _favorite_state(storage: Storage, article: Article, viewer: User) -> tuple[bool, int]:
    async with storage.unit_of_work() as uow:
        view = await uow.articles.view(article.slug, viewer_id=viewer.id)
    assert view is not None
    return view.favorited, view.favorites_count


async def test_favorite_marks_the_article_for_that_user_only(storage: Storage) -> None:
    jake = await factories.user(storage)
    fan = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    other = await factories.article(storage, author=jake)

    async with storage.unit_of_work() as uow:
        await uow.favorites.add(user_id=fan.id, article_id=article.id, at=factories.later())
        await uow.commit()

    assert await _favorite_state(storage, article, fan) == (True, 1)
    assert await _favorite_state(storage, article, jake) == (False, 1)
    assert await _favorite_state(storage, other, fan) == (False, 0)


async def test_favoriting_twice_counts_once(storage: Storage) -> None:
    jake = await factories.user(storage)
    fan = await factories.user(storage)
    article = await factories.article(storage, author=jake)

    async with storage.unit_of_work() as uow:
        await uow.favorites.add(user_id=fan.id, article_id=article.id, at=factories.later())
        await uow.favorites.add(user_id=fan.id, article_id=article.id, at=factories.later())
        await uow.commit()
    await factories.favorite(storage, user=fan, article=article)

    assert await _favorite_state(storage, article, fan) == (True, 1)


async def test_concurrent_favorites_count_once(storage: Storage) -> None:
    jake = await factories.user(storage)
    fan = await factories.user(storage)
    article = await factories.article(storage, author=jake)

    # As the services do: a unit of work that loses the race is rolled back and run again.
    favorite = retry.on_conflict(factories.favorite)
    await asyncio.gather(*(favorite(storage, user=fan, article=article) for _ in "abc"))

    assert await _favorite_state(storage, article, fan) == (True, 1)


async def test_count_is_the_number_of_users(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    fans = [await factories.user(storage) for _ in range(3)]
    for fan in fans:
        await factories.favorite(storage, user=fan, article=article)

    assert await _favorite_state(storage, article, jake) == (False, 3)


async def test_unfavorite(storage: Storage) -> None:
    jake = await factories.user(storage)
    fan = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    await factories.favorite(storage, user=fan, article=article)
    await factories.favorite(storage, user=jake, article=article)

    async with storage.unit_of_work() as uow:
        await uow.favorites.remove(user_id=fan.id, article_id=article.id)
        await uow.commit()

    assert await _favorite_state(storage, article, fan) == (False, 1)
    assert await _favorite_state(storage, article, jake) == (True, 1)


async def test_unfavoriting_what_is_not_favorited_does_nothing(storage: Storage) -> None:
    jake = await factories.user(storage)
    fan = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    await factories.favorite(storage, user=jake, article=article)

    async with storage.unit_of_work() as uow:
        await uow.favorites.remove(user_id=fan.id, article_id=article.id)
        await uow.favorites.remove(user_id=fan.id, article_id=article.id)
        await uow.commit()

    assert await _favorite_state(storage, article, fan) == (False, 1)


async def test_a_favorite_of_an_article_gone_meanwhile_is_not_kept(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    async with storage.unit_of_work() as uow:
        await uow.articles.delete(article.id)
        await uow.commit()

    async def favorite_late() -> None:
        async with storage.unit_of_work() as uow:
            await uow.favorites.add(user_id=jake.id, article_id=article.id, at=factories.later())
            await uow.commit()

    with pytest.raises(NotFound) as refused:
        await favorite_late()

    assert refused.value.what == "article"
    assert await storage.check(repair=False) == []


async def test_many_users_favorite_one_article_at_once_without_conflict(storage: Storage) -> None:
    """No retries allowed: concurrent favorites of one article never conflict."""
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    fans = [await factories.user(storage) for _ in range(20)]

    await asyncio.gather(*(factories.favorite(storage, user=fan, article=article) for fan in fans))

    assert await _favorite_state(storage, article, fans[0]) == (True, 20)
    assert await storage.check(repair=False) == []
