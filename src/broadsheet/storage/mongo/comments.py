from __future__ import annotations

from datetime import datetime

from broadsheet.domain.models import Comment, CommentView
from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.documents import (
    Stage,
    comment_from,
    profile_from,
    utc,
    with_author,
)


class MongoComments(MongoRepository):
    async def add(
        self, *, article_id: int, author_id: int, body: str, created_at: datetime
    ) -> Comment:
        await self._uow.begin_write()
        document = {
            "_id": await self._next_id("comments"),
            "article_id": article_id,
            "author_id": author_id,
            "body": body,
            "created_at": created_at,
            "updated_at": created_at,
        }
        await self._db.comments.insert_one(document, session=self._session)
        return comment_from(document)

    async def get(self, comment_id: int) -> Comment | None:
        document = await self._db.comments.find_one({"_id": comment_id}, session=self._session)
        return None if document is None else comment_from(document)

    async def delete(self, comment_id: int) -> None:
        await self._uow.begin_write()
        await self._db.comments.delete_one({"_id": comment_id}, session=self._session)

    async def list_for(self, article_id: int, *, viewer_id: int | None) -> list[CommentView]:
        pipeline: list[Stage] = [
            {"$match": {"article_id": article_id}},
            {"$sort": {"created_at": 1, "_id": 1}},
            *with_author(viewer_id),
        ]
        cursor = await self._db.comments.aggregate(pipeline, session=self._session)
        return [
            CommentView(
                id=doc["_id"],
                body=doc["body"],
                created_at=utc(doc["created_at"]),
                updated_at=utc(doc["updated_at"]),
                author=profile_from(doc["author"]),
            )
            async for doc in cursor
        ]
