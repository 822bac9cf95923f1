from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.storage.sql.dialects import insert_if_absent, missing_reference_as_not_found
from broadsheet.storage.sql.tables import favorite


class SqlFavorites:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, *, user_id: int, article_id: int) -> None:
        values = {"user_id": user_id, "article_id": article_id}
        async with missing_reference_as_not_found("article"):
            await self._connection.execute(insert_if_absent(self._connection, favorite, values))

    async def remove(self, *, user_id: int, article_id: int) -> None:
        await self._connection.execute(
            delete(favorite).where(
                favorite.c.user_id == user_id, favorite.c.article_id == article_id
            )
        )
