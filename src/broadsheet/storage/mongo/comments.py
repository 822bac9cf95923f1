from __future__ import annotations

from datetime import datetime

from broadsheet.domain.errors import NotFound
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
        """A comment is acknowledged only if its article still exists once the comment is
        stored, and no comment outlives its article.

        Nothing locks the article while its comments are written (a hot article takes many
        at once, and writing the article would make each a write conflict). Instead the
        comment is stored, and once it is committed the article is looked up again: if it
        is gone, the comment is taken back and the caller gets ``NotFound``. The article's
        delete, for its part, deletes the article's comments once the article is gone
        (``MongoArticles.delete``). Of the two orders: if the look-up still saw the article,
        the delete came later, so its sweep of comments (after the delete, after the
        look-up, after this comment was committed) sees this comment and takes it; if the
        look-up did not, the comment is deleted here. Either way no comment remains; only a
        crash between the steps can leave one (``broadsheet db check`` finds it).
        """
        await self._uow.begin_write()
        comment_id = await self._next_id("comments")
        document = {
            "_id": comment_id,
            "article_id": article_id,
            "author_id": author_id,
            "body": body,
            "created_at": created_at,
            "updated_at": created_at,
        }
        await self._db.comments.insert_one(document, session=self._session)

        async def kept_only_if_the_article_is() -> None:
            found = await self._db.articles.find_one({"_id": article_id}, projection={"_id": 1})
            if found is None:
                await self._db.comments.delete_one({"_id": comment_id})
                raise NotFound("article")

        self._uow.after_commit(kept_only_if_the_article_is)
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
