from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from broadsheet.domain.errors import NotFound, TransientConflict
from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.counters import Move


def counted(*, user_id: int, article_id: int, change: int) -> list[Move]:
    """A favorite counts for its article (``favoritesCount``) and its user (``?favorited=``)."""
    return [
        Move("articles", article_id, "favorites_count", change),
        Move("users", user_id, "favorites_count", change),
    ]


class MongoFavorites(MongoRepository):
    """A favorite is its own document, with a copy of its article's ``created_at`` (so a
    user's favorites list in the articles' order straight from an index) and the moment it
    was made (``favorited_at``, for trending articles); the article and the user each keep a
    count of them.

    The favorite is written in the unit of work, the counts moved with ``$inc`` outside any
    transaction (see counters.py): a hundred users favoriting one article at once never
    conflict on it. No reader ever sees a favorite that is not counted yet; a count can show
    one that is not visible yet. After any race each favorite has been counted exactly once;
    a crash between the writes leaves a counter off by one, which ``broadsheet db check
    --repair`` finds and fixes.
    """

    async def add(self, *, user_id: int, article_id: int, at: datetime) -> None:
        await self._uow.begin_write()
        created_at = await self._created_at(article_id)
        pair = {"user_id": user_id, "article_id": article_id}
        # On insert only: a favorite already there keeps the moment it was first made.
        made = {**pair, "article_created_at": created_at, "favorited_at": at}
        try:
            result = await self._db.favorites.update_one(
                pair,
                {"$setOnInsert": made},
                upsert=True,
                session=self._session,
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
        await self._uow.count(counted(user_id=user_id, article_id=article_id, change=+1))

        async def kept_only_if_the_article_is() -> None:
            """The article may have been deleted since it was read, and that delete's sweep
            may have missed this favorite: see MongoComments.add. Whoever deletes the
            favorite takes it off its user's count (the article's is gone with it)."""
            if await self._article_exists(article_id):
                return
            removed = await self._db.favorites.delete_one({"_id": favorite_id})
            if removed.deleted_count:
                await self._uow.count([Move("users", user_id, "favorites_count", -1)])
            raise NotFound("article")

        self._uow.after_commit(kept_only_if_the_article_is)

    async def remove(self, *, user_id: int, article_id: int) -> None:
        await self._uow.begin_write()
        result = await self._db.favorites.delete_one(
            {"user_id": user_id, "article_id": article_id}, session=self._session
        )
        if result.deleted_count:
            # A gone article's count is gone with it: that move matches nothing.
            await self._uow.count(counted(user_id=user_id, article_id=article_id, change=-1))

    async def _created_at(self, article_id: int) -> datetime:
        """The article's ``created_at``: usually already read in this unit of work (the use
        case looked the article up), else one find by ``_id``."""
        if (known := self._uow.article_created_at.get(article_id)) is not None:
            return known
        found: Any = await self._db.articles.find_one(
            {"_id": article_id}, projection={"created_at": 1}, session=self._session
        )
        if found is None:
            raise NotFound("article")
        created_at: datetime = found["created_at"]
        self._uow.article_created_at[article_id] = created_at
        return created_at

    async def _article_exists(self, article_id: int) -> bool:
        found: Any = await self._db.articles.find_one({"_id": article_id}, projection={"_id": 1})
        return found is not None
