"""A row that points at something deleted meanwhile is refused by the foreign key, and the
adapter says "not found" rather than letting a driver error through (a 500)."""

from __future__ import annotations

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
            await uow.favorites.add(user_id=jake.id, article_id=GONE)

    assert raised.value.what == "article"


async def test_a_follow_of_a_deleted_user(sql_storage: SqlStorage) -> None:
    jake = await factories.user(sql_storage)

    async with sql_storage.unit_of_work() as uow:
        with pytest.raises(NotFound) as raised:
            await uow.follows.add(follower_id=jake.id, followee_id=GONE)

    assert raised.value.what == "profile"
