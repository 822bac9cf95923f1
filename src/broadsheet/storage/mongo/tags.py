from __future__ import annotations

from typing import Any

from broadsheet.storage.mongo.base import MongoRepository


class MongoTags(MongoRepository):
    async def popular(self) -> list[str]:
        """The ``tags`` counters, most used first, in the order of their index
        ``{articles_count: -1, _id: 1}`` (which covers the query): no article is read. A tag
        no article uses any more keeps its document at 0 and is left out."""
        cursor = self._db.tags.find(
            {"articles_count": {"$gt": 0}},
            projection={"articles_count": 1},
            sort=[("articles_count", -1), ("_id", 1)],
            session=self._session,
        )
        found = {doc["_id"]: doc["articles_count"] async for doc in cursor}
        moved = self._uow.pending("tags")
        return await self._with_pending(found, moved) if moved else list(found)

    async def _with_pending(
        self, found: dict[str, int], moved: dict[Any, dict[str, int]]
    ) -> list[str]:
        """Inside a unit of work that moved tag counters it has not sent yet (they go just
        before its commit): the tags as they will be counted, in the same order."""
        others: Any = self._db.tags.find(
            {"_id": {"$in": sorted(moved.keys() - found.keys())}},
            projection={"articles_count": 1},
            session=self._session,
        )
        counts = {**found, **{doc["_id"]: doc["articles_count"] async for doc in others}}
        for tag, fields in moved.items():
            counts[tag] = counts.get(tag, 0) + fields.get("articles_count", 0)
        ranked = sorted((-count, tag) for tag, count in counts.items() if count > 0)
        return [tag for _, tag in ranked]
