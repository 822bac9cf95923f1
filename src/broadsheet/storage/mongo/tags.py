from __future__ import annotations

from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.documents import Stage


class MongoTags(MongoRepository):
    async def popular(self) -> list[str]:
        pipeline: list[Stage] = [
            {"$project": {"tags": 1}},
            {"$unwind": "$tags"},
            {"$group": {"_id": "$tags", "uses": {"$sum": 1}}},
            {"$sort": {"uses": -1, "_id": 1}},
        ]
        cursor = await self._db.articles.aggregate(pipeline, session=self._session)
        return [row["_id"] async for row in cursor]
