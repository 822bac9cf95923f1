from __future__ import annotations

from contextlib import suppress

from pymongo.errors import DuplicateKeyError

from broadsheet.storage.mongo.base import MongoRepository


class MongoFollows(MongoRepository):
    async def add(self, *, follower_id: int, followee_id: int) -> None:
        await self._uow.begin_write()
        pair = {"follower_id": follower_id, "followee_id": followee_id}
        # DuplicateKeyError: a concurrent request made the same follow. Without transactions the
        # outcome is the same; in a transaction the server has aborted it, so the next command
        # fails as transient and the use case runs again.
        with suppress(DuplicateKeyError):
            await self._db.follows.update_one(
                pair, {"$setOnInsert": pair}, upsert=True, session=self._session
            )

    async def remove(self, *, follower_id: int, followee_id: int) -> None:
        await self._uow.begin_write()
        await self._db.follows.delete_one(
            {"follower_id": follower_id, "followee_id": followee_id}, session=self._session
        )
