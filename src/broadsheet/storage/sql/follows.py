from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.storage.sql.dialects import insert_if_absent, missing_reference_as_not_found
from broadsheet.storage.sql.tables import follow


class SqlFollows:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, *, follower_id: int, followee_id: int) -> None:
        values = {"follower_id": follower_id, "followee_id": followee_id}
        async with missing_reference_as_not_found("profile"):
            await self._connection.execute(insert_if_absent(self._connection, follow, values))

    async def remove(self, *, follower_id: int, followee_id: int) -> None:
        await self._connection.execute(
            delete(follow).where(
                follow.c.follower_id == follower_id, follow.c.followee_id == followee_id
            )
        )
