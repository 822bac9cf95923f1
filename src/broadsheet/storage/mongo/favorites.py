from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from broadsheet.domain.errors import NotFound, TransientConflict
from broadsheet.storage.mongo.base import MongoRepository


class MongoFavorites(MongoRepository):
    """A favorite is its own document; the article keeps ``favorites_count`` beside it.

    The favorite is written in the unit of work, the count moved with ``$inc`` right after,
    as a single-document update outside any transaction: a hundred users favoriting one
    article at once never conflict on it. Inside a transaction the ``$inc`` comes before the
    commit and is undone if the transaction does not commit, so no reader ever sees a
    favorite that is not counted yet; its count can show one that is not visible yet, and
    may dip below zero for a moment without transactions, when a removal's ``-1`` overtakes
    the ``+1`` of the favorite it removes (reads show at least zero). After any race each
    favorite has been counted exactly once; a crash between the two writes leaves the
    counter off by one, which ``broadsheet db check --repair`` finds and fixes.
    """

    async def add(self, *, user_id: int, article_id: int) -> None:
        await self._uow.begin_write()
        pair = {"user_id": user_id, "article_id": article_id}
        try:
            result = await self._db.favorites.update_one(
                pair, {"$setOnInsert": pair}, upsert=True, session=self._session
            )
        except DuplicateKeyError:
            # A concurrent request made the same favorite and counts it. In a transaction the
            # server has aborted this one: run the use case again.
            if self._uow.in_transaction:
                raise TransientConflict from None
            return
        favorite_id = result.upserted_id
        if favorite_id is None:
            return
        if not await self._count(article_id, +1):
            # The article is gone. A transaction takes the favorite back as it aborts; without
            # one it already stands.
            if not self._uow.in_transaction:
                await self._db.favorites.delete_one({"_id": favorite_id})
            raise NotFound("article")

        async def kept_only_if_the_article_is() -> None:
            """The article may have been deleted after the count and before the commit, and
            that delete's sweep may have missed this favorite: see MongoComments.add."""
            if not await self._article_exists(article_id):
                await self._db.favorites.delete_one({"_id": favorite_id})
                raise NotFound("article")

        if self._uow.in_transaction:
            self._uow.after_commit(kept_only_if_the_article_is)

    async def remove(self, *, user_id: int, article_id: int) -> None:
        await self._uow.begin_write()
        result = await self._db.favorites.delete_one(
            {"user_id": user_id, "article_id": article_id}, session=self._session
        )
        if result.deleted_count:
            # Nothing to do if the article is gone: its favorites go with it.
            await self._count(article_id, -1)

    async def _count(self, article_id: int, change: int) -> bool:
        """Move the counter, outside the transaction; False if there is no such article.

        Inside it only for an article this transaction itself wrote (made, say): no one else
        can write that one now, and a write outside would wait for this very transaction."""
        counter = {"$inc": {"favorites_count": change}}
        if article_id in self._uow.articles_written:
            result = await self._db.articles.update_one(
                {"_id": article_id}, counter, session=self._session
            )
            return result.matched_count == 1
        result = await self._db.articles.update_one({"_id": article_id}, counter)
        if result.matched_count != 1:
            return False
        self._uow.undo_unless_committed(lambda: self._uncount(article_id, change))
        return True

    async def _uncount(self, article_id: int, change: int) -> None:
        await self._db.articles.update_one(
            {"_id": article_id}, {"$inc": {"favorites_count": -change}}
        )

    async def _article_exists(self, article_id: int) -> bool:
        found: Any = await self._db.articles.find_one({"_id": article_id}, projection={"_id": 1})
        return found is not None
