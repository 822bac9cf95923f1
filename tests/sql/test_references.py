"""A row that points at something deleted meanwhile is refused by the foreign key, and the
adapter says "not found" rather than letting a driver error through (a 500)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from broadsheet.domain.errors import NotFound
from broadsheet.storage.sql import SqlStorage
from tests import databases, factories

GONE = 2_000_000


@pytest.fixture
async def sql_storage(sql_url: str) -> AsyncIterator[SqlStorage]:
    storage = SqlStorage(sql_url)
    await databases.empty(storage)
    try:
        yield storage
    finally:
        await storage.close()


async def test_a_comment_on_a_deleted_article(sql_storage: SqlStorage) -> None:
    jake = await factories.user(sql_storage)

    async with sql_storage.unit_of_work() as uow:
        with pytest.raises(NotFound) as raised:
            await uow.comments.add(
                article_id=GONE, author_id=jake.id, body="late", created_at=datetime.now(UTC)
            )

    assert raised.value.what == "article"


async def test_a_favorite_of_a_deleted_article(sql_storage: SqlStorage) -> None:
    jake = await factories.user(sql_storage)

    async with sql_storage.unit_of_work() as uow:
        with pytest.raises(NotFound) as raised:
            await uow.favorites.add(user_id=jake.id, article_id=GONE, at=factories.later())

    assert raised.value.what == "article"


async def test_a_follow_of_a_deleted_user(sql_storage: SqlStorage) -> None:
    jake = await factories.user(sql_storage)

    async with sql_storage.unit_of_work() as uow:
        with pytest.raises(NotFound) as raised:
            await uow.follows.add(follower_id=jake.id, followee_id=GONE)

    assert raised.value.what == "profile"


async def test_a_comment_racing_an_uncommitted_delete_is_refused(sql_storage: SqlStorage) -> None:
    """At READ COMMITTED the foreign-key check does not read a stale snapshot: an insert
    that meets a delete still in flight waits for it and then fails (SQLite waits at BEGIN
    and then fails), so no comment outlives its article."""
    jake = await factories.user(sql_storage)
    article = await factories.article(sql_storage, author=jake)
    deleted = asyncio.Event()
    release = asyncio.Event()

    async def delete() -> None:
        async with sql_storage.unit_of_work() as uow:
            await uow.articles.delete(article.id)
            deleted.set()
            await release.wait()
            await uow.commit()

    async def comment() -> None:
        await deleted.wait()
        async with sql_storage.unit_of_work() as uow:
            await uow.comments.add(
                article_id=article.id, author_id=jake.id, body="late", created_at=datetime.now(UTC)
            )
            await uow.commit()

    deleting = asyncio.create_task(delete())
    commenting = asyncio.create_task(comment())
    await asyncio.sleep(0.3)
    assert not commenting.done()  # waiting for the delete's lock
    release.set()
    await deleting

    with pytest.raises(NotFound):
        await commenting
    assert await sql_storage.check(repair=False) == []


async def test_a_delete_racing_an_uncommitted_comment_takes_the_comment(
    sql_storage: SqlStorage,
) -> None:
    jake = await factories.user(sql_storage)
    article = await factories.article(sql_storage, author=jake)
    commented = asyncio.Event()
    release = asyncio.Event()

    async def comment() -> None:
        async with sql_storage.unit_of_work() as uow:
            await uow.comments.add(
                article_id=article.id, author_id=jake.id, body="first", created_at=datetime.now(UTC)
            )
            commented.set()
            await release.wait()
            await uow.commit()

    async def delete() -> None:
        await commented.wait()
        async with sql_storage.unit_of_work() as uow:
            await uow.articles.delete(article.id)
            await uow.commit()

    commenting = asyncio.create_task(comment())
    deleting = asyncio.create_task(delete())
    await asyncio.sleep(0.3)
    assert not deleting.done()  # waiting for the comment's lock on the article
    release.set()
    await commenting
    await deleting

    async with sql_storage.unit_of_work() as uow:
        assert await uow.comments.list_for(article.id, viewer_id=None) == []
    assert await sql_storage.check(repair=False) == []
