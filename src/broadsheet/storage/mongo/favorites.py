from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from broadsheet.storage.mongo.base import MongoRepository


class MongoFavorites(MongoRepository):
    """A favorite is its own document; the article keeps ``favorites_count`` beside it,
    moved with ``$inc`` only when a favorite really appeared or disappeared. Without
    transactions the favorite is written first: a crash in between leaves the counter one
    behind, never a favorite that is counted but not there."""

    async def add(self, *, user_id: int, article_id: int) -> None:
        await self._uow.begin_write()
        pair = {"user_id": user_id, "article_id": article_id}
        try:
            result = await self._db.favorites.update_one(
                pair, {"$setOnInsert": pair}, upsert=True, session=self._session
            )
        except DuplicateKeyError:
            # A concurrent request made the same favorite and counted it. (In a transaction the
            # server has aborted it: the commit fails as transient and the use case reruns.)
            return
        if result.upserted_id is not None:
            await self._count(article_id, +1)

    async def remove(self, *, user_id: int, article_id: int) -> None:
        await self._uow.begin_write()
        result = await self._db.favorites.delete_one(
            {"user_id": user_id, "article_id": article_id}, session=self._session
        )
        if result.deleted_count:
            await self._count(article_id, -1)

    async def _count(self, article_id: int, change: int) -> None:
        # Never below zero, even if a crash without transactions left the counter behind.
        floor = {"favorites_count": {"$gt": 0}} if change < 0 else {}
        await self._db.articles.update_one(
            {"_id": article_id, **floor},
            {"$inc": {"favorites_count": change}},
            session=self._session,
        )
