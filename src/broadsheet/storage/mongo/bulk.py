"""The document bulk loader: a generated site written straight into empty collections.

Each batch is one ``insert_many(ordered=False)`` (PyMongo splits it into messages the server
takes), outside any transaction and without a session. Counters are written as given; the
id counters (``counters``) move to the last id loaded, never backwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from pymongo.asynchronous.database import AsyncDatabase

from broadsheet.domain import rules
from broadsheet.domain.errors import StoreNotReady
from broadsheet.domain.models import (
    ArticleRecord,
    Comment,
    FavoriteRecord,
    FollowRecord,
    UserRecord,
)
from broadsheet.storage.mongo import fulltext, migrations
from broadsheet.storage.mongo.availability import outages_as_store_unavailable
from broadsheet.storage.mongo.documents import Document, staff_fields


class MongoBulkLoader:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._db = database
        self._written: Counter[str] = Counter()
        self._last_ids: dict[str, int] = {}

    async def __aenter__(self) -> Self:
        async with outages_as_store_unavailable():
            if (problem := await migrations.problem(self._db)) is not None:
                raise StoreNotReady(f"the database is not ready for a bulk load: {problem}")
            for collection in ("users", "articles"):
                if await self._db[collection].find_one({}, projection={"_id": 1}) is not None:
                    raise StoreNotReady(
                        "the database already has users or articles: load into an empty one"
                    )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        pass

    @property
    def written(self) -> Mapping[str, int]:
        return self._written

    async def add_users(self, users: Sequence[UserRecord]) -> None:
        documents = [
            {
                "_id": u.id,
                "username": u.username,
                "username_key": rules.username_key(u.username),
                "email": u.email,
                "password_hash": u.password_hash,
                "bio": u.bio,
                "image": u.image,
                "articles_count": u.articles_count,
                "favorites_count": u.favorites_count,
                **staff_fields(u.role, u.suspended),
            }
            for u in users
        ]
        await self._insert("users", documents, id_sequence="users")

    async def add_follows(self, follows: Sequence[FollowRecord]) -> None:
        documents = [{"follower_id": f.follower_id, "followee_id": f.followee_id} for f in follows]
        await self._insert("follows", documents)

    async def add_tags(self, articles_per_tag: Mapping[str, int]) -> None:
        async with outages_as_store_unavailable():
            # Without articles no tag is in use: any kept (at zero, if the counts are right)
            # would collide with the counts written now.
            await self._db.tags.delete_many({})
        documents = [
            {"_id": tag, "articles_count": count} for tag, count in articles_per_tag.items()
        ]
        await self._insert("tags", documents)

    async def add_articles(self, articles: Sequence[ArticleRecord]) -> None:
        documents = [
            {
                "_id": a.id,
                "slug": a.slug,
                "title": a.title,
                "description": a.description,
                "body": a.body,
                "tags": list(a.tags),
                "author_id": a.author_id,
                "created_at": a.created_at,
                "updated_at": a.updated_at,
                "favorites_count": a.favorites_count,
                **fulltext.fields(a.title, a.description, a.body),
            }
            for a in articles
        ]
        await self._insert("articles", documents, id_sequence="articles")

    async def add_favorites(self, favorites: Sequence[FavoriteRecord]) -> None:
        documents = [
            {
                "user_id": f.user_id,
                "article_id": f.article_id,
                "article_created_at": f.article_created_at,
                "favorited_at": f.favorited_at,
            }
            for f in favorites
        ]
        await self._insert("favorites", documents)

    async def add_comments(self, comments: Sequence[Comment]) -> None:
        documents = [
            {
                "_id": c.id,
                "article_id": c.article_id,
                "author_id": c.author_id,
                "body": c.body,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            }
            for c in comments
        ]
        await self._insert("comments", documents, id_sequence="comments")

    async def finish(self, *, articles: int) -> None:
        async with outages_as_store_unavailable():
            await self._db.totals.update_one(
                {"_id": "articles"}, {"$set": {"count": articles}}, upsert=True
            )
            self._written["totals"] += 1
            for sequence, last_id in self._last_ids.items():
                await self._db.counters.update_one(
                    {"_id": sequence}, {"$max": {"value": last_id}}, upsert=True
                )
                self._written["counters"] += 1

    async def _insert(
        self, collection: str, documents: list[dict[str, Any]], *, id_sequence: str | None = None
    ) -> None:
        if not documents:
            return
        async with outages_as_store_unavailable():
            await self._db[collection].insert_many(documents, ordered=False)
        self._written[collection] += len(documents)
        if id_sequence is not None:
            last = max(self._last_ids.get(id_sequence, 0), *(d["_id"] for d in documents))
            self._last_ids[id_sequence] = last
