"""Tag subscriptions: one row per reader and tag, read back with the followed authors."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.domain.models import Profile, Subscriptions
from broadsheet.storage.sql.dialects import insert_if_absent
from broadsheet.storage.sql.tables import follow, tag_subscription, user_account


class SqlTagSubscriptions:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, *, user_id: int, tag: str) -> None:
        values = {"user_id": user_id, "tag": tag}
        await self._connection.execute(insert_if_absent(self._connection, tag_subscription, values))

    async def remove(self, *, user_id: int, tag: str) -> None:
        await self._connection.execute(
            delete(tag_subscription).where(
                tag_subscription.c.user_id == user_id, tag_subscription.c.tag == tag
            )
        )

    async def of(self, user_id: int) -> Subscriptions:
        authors = await self._connection.execute(
            select(user_account.c.username, user_account.c.bio, user_account.c.image)
            .select_from(follow.join(user_account, user_account.c.id == follow.c.followee_id))
            .where(follow.c.follower_id == user_id)
            .order_by(user_account.c.username_key)
        )
        tags = await self._connection.scalars(
            select(tag_subscription.c.tag)
            .where(tag_subscription.c.user_id == user_id)
            .order_by(tag_subscription.c.tag)
        )
        return Subscriptions(
            authors=tuple(
                Profile(username=a.username, bio=a.bio, image=a.image, following=True)
                for a in authors
            ),
            tags=tuple(tags),
        )
