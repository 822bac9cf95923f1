"""Favorites, and the counter each one moves in the same transaction: the user's
``favorites_count`` (the total of their ``?favorited=`` list).

An article's own count is not kept here but counted for the rows of a page (see
``articles.py``): many users favorite a popular article at once, and a counter on its row
would queue them all behind each other's commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.domain.errors import NotFound
from broadsheet.storage.sql.dialects import inserted_unless_present, missing_reference_as_not_found
from broadsheet.storage.sql.tables import article, favorite, user_account


class SqlFavorites:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, *, user_id: int, article_id: int, at: datetime) -> None:
        created_at = await self._created_at(article_id)
        # The article's created_at is the favorite's sort key in its user's ?favorited= list.
        values = {
            "user_id": user_id,
            "article_id": article_id,
            "article_created_at": created_at,
            "favorited_at": at,
        }
        async with missing_reference_as_not_found("article"):  # deleted meanwhile
            added = await inserted_unless_present(self._connection, favorite, values=values)
        if added:
            await self._count(user_id=user_id, change=1)

    async def remove(self, *, user_id: int, article_id: int) -> None:
        removed = await self._connection.execute(
            delete(favorite).where(
                favorite.c.user_id == user_id, favorite.c.article_id == article_id
            )
        )
        if removed.rowcount == 1:
            await self._count(user_id=user_id, change=-1)

    async def _created_at(self, article_id: int) -> datetime:
        """NotFound if the article is gone (deleted since the use case looked it up)."""
        query = select(article.c.created_at).where(article.c.id == article_id)
        created_at: datetime | None = await self._connection.scalar(query)
        if created_at is None:
            raise NotFound("article")
        return created_at

    async def _count(self, *, user_id: int, change: int) -> None:
        await self._connection.execute(
            update(user_account)
            .where(user_account.c.id == user_id)
            .values(favorites_count=user_account.c.favorites_count + change)
        )
