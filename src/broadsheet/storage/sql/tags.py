from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.storage.sql.tables import article_tag


class SqlTags:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def popular(self) -> list[str]:
        uses = func.count().label("uses")
        query = (
            select(article_tag.c.tag, uses)
            .group_by(article_tag.c.tag)
            .order_by(uses.desc(), article_tag.c.tag)
        )
        return [row.tag for row in await self._connection.execute(query)]
