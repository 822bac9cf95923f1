from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.storage.sql.tables import tag

_POPULAR = (
    select(tag.c.name)
    .where(tag.c.articles_count > 0)
    .order_by(tag.c.articles_count.desc(), tag.c.name)
)


class SqlTags:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def popular(self) -> list[str]:
        """From the per-tag counters, in the order of their index (``ix_tag_popularity``)."""
        return list((await self._connection.scalars(_POPULAR)).all())
