"""Favorites, and the two counters each one moves in the same transaction: the article's
``favorites_count`` and the user's (the total of their ``?favorited=`` list).

Each write locks the article's row first (the order every write takes rows in: article,
then users): concurrent favorites of one article queue on it instead of deadlocking, as
they would on MariaDB, where the favorite's foreign-key check share-locks the article that
the counter update then needs exclusively.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.domain.errors import NotFound
from broadsheet.storage.sql.dialects import inserted_unless_present
from broadsheet.storage.sql.tables import article, favorite, user_account


class SqlFavorites:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, *, user_id: int, article_id: int) -> None:
        created_at = await self._lock_article(article_id)
        # The article's created_at is the favorite's sort key in its user's ?favorited= list.
        values = {"user_id": user_id, "article_id": article_id, "article_created_at": created_at}
        if await inserted_unless_present(self._connection, favorite, values=values):
            await self._count(user_id=user_id, article_id=article_id, change=1)

    async def remove(self, *, user_id: int, article_id: int) -> None:
        await self._lock_article(article_id)
        removed = await self._connection.execute(
            delete(favorite).where(
                favorite.c.user_id == user_id, favorite.c.article_id == article_id
            )
        )
        if removed.rowcount == 1:
            await self._count(user_id=user_id, article_id=article_id, change=-1)

    async def _lock_article(self, article_id: int) -> datetime:
        """The article's created_at, its row locked until commit; NotFound if it is gone
        (deleted since the use case looked it up). PostgreSQL's lock is the weaker
        ``FOR NO KEY UPDATE``, so comments on the article do not wait for it."""
        locked = select(article.c.created_at).where(article.c.id == article_id)
        created_at: datetime | None = await self._connection.scalar(
            locked.with_for_update(key_share=True)
        )
        if created_at is None:
            raise NotFound("article")
        return created_at

    async def _count(self, *, user_id: int, article_id: int, change: int) -> None:
        await self._connection.execute(
            update(article)
            .where(article.c.id == article_id)
            .values(favorites_count=article.c.favorites_count + change)
        )
        await self._connection.execute(
            update(user_account)
            .where(user_account.c.id == user_id)
            .values(favorites_count=user_account.c.favorites_count + change)
        )
