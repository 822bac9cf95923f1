"""Articles as documents: tags embedded, ``favorites_count`` kept beside them, and every read
model built by one aggregation pipeline (list page and total through ``$facet``)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from broadsheet.domain import rules
from broadsheet.domain.errors import AlreadyExists, TransientConflict
from broadsheet.domain.models import (
    Article,
    ArticleChanges,
    ArticleFilter,
    ArticleSummary,
    ArticleView,
    NewArticle,
    Page,
)
from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.documents import (
    Stage,
    article_from,
    summary_from,
    view_from,
    with_viewer_fields,
)

T = TypeVar("T")
_NEWEST_FIRST: Stage = {"$sort": {"created_at": -1, "_id": -1}}
_WITHOUT_BODY: Stage = {"$project": {"body": 0}}


def _articles_by(local_field: str, foreign_field: str) -> list[Stage]:
    """From another collection into the articles it points to (bodies left behind).

    ``$lookup`` directly followed by ``$unwind`` is coalesced by the server, so no
    document ever holds the whole array."""
    return [
        {
            "$lookup": {
                "from": "articles",
                "localField": local_field,
                "foreignField": foreign_field,
                "pipeline": [_WITHOUT_BODY],
                "as": "_article",
            }
        },
        {"$unwind": "$_article"},
        {"$replaceRoot": {"newRoot": "$_article"}},
    ]


def _source(filters: ArticleFilter) -> tuple[str, list[Stage]]:
    """The collection a list starts from and the stages that reach the matching articles:
    the most selective filter leads, through its index; the others follow as ``$match``."""
    stages: list[Stage]
    if filters.favorited_by is not None:
        collection = "users"
        stages = [
            {"$match": {"username_key": rules.username_key(filters.favorited_by)}},
            {"$lookup": {"from": "favorites", "localField": "_id",
                         "foreignField": "user_id", "as": "_fav"}},
            {"$unwind": "$_fav"},
            *_articles_by("_fav.article_id", "_id"),
        ]  # fmt: skip
    elif filters.author is not None:
        collection = "users"
        stages = [
            {"$match": {"username_key": rules.username_key(filters.author)}},
            *_articles_by("_id", "author_id"),
        ]
    else:
        collection, stages = "articles", []
    if filters.tag is not None:
        stages.append({"$match": {"tags": filters.tag}})
    if filters.author is not None and filters.favorited_by is not None:
        stages += [
            {"$lookup": {"from": "users", "localField": "author_id",
                         "foreignField": "_id", "as": "_by"}},
            {"$match": {"_by.username_key": rules.username_key(filters.author)}},
            {"$project": {"_by": 0}},
        ]  # fmt: skip
    if collection == "articles":
        stages.append(_WITHOUT_BODY)
    return collection, stages


class MongoArticles(MongoRepository):
    async def add(self, new: NewArticle) -> Article:
        await self._uow.begin_write()
        await self._claim_slug(new.slug, article_id=None)
        article_id = await self._next_id("articles")
        await self._uow.begin_write(article_id=article_id)
        document = {
            "_id": article_id,
            "slug": new.slug,
            "title": new.title,
            "description": new.description,
            "body": new.body,
            "tags": list(new.tags),
            "author_id": new.author_id,
            "created_at": new.created_at,
            "updated_at": new.created_at,
            "favorites_count": 0,
        }
        await self._write_with_slug(self._db.articles.insert_one(document, session=self._session))
        return article_from(document)

    async def get_by_slug(self, slug: str) -> Article | None:
        document = await self._db.articles.find_one({"slug": slug}, session=self._session)
        return None if document is None else article_from(document)

    async def update(
        self, before: Article, changes: ArticleChanges, *, updated_at: datetime
    ) -> Article:
        await self._uow.begin_write(article_id=before.id)
        if changes.slug is not None:
            await self._claim_slug(changes.slug, article_id=before.id)
        fields: dict[str, Any] = {**changes.columns(), "updated_at": updated_at}
        if changes.tags is not None:
            fields["tags"] = list(changes.tags)
        # Compare-and-set on the version read (the read ran outside the transaction, which
        # starts at the first write): a concurrent edit that committed first leaves nothing
        # matching, one still open makes this a write conflict; either way the use case
        # runs again. One document, so this holds without transactions too.
        result = await self._write_with_slug(
            self._db.articles.update_one(
                {"_id": before.id, "updated_at": before.updated_at},
                {"$set": fields},
                session=self._session,
            )
        )
        if result.matched_count != 1:
            raise TransientConflict
        return changes.applied_to(before, updated_at=updated_at)

    async def delete(self, article_id: int) -> None:
        """The article goes first, then what hangs on it (in the same transaction, if there
        is one). Comments and favorites are stored without locking their article, so one
        may commit after this transaction read the collection: once this unit of work has
        committed they are deleted once more (see ``MongoComments.add`` for why that leaves
        none). Without transactions, the order alone does that, and what a crash leaves
        (comments, favorites of an article that no longer exists) is unreachable."""
        await self._uow.begin_write(article_id=article_id)
        await self._db.articles.delete_one({"_id": article_id}, session=self._session)
        await self._delete_what_hangs_on(article_id, self._session)
        if self._uow.in_transaction:
            self._uow.after_commit(lambda: self._delete_what_hangs_on(article_id, None))

    async def _delete_what_hangs_on(
        self, article_id: int, session: AsyncClientSession | None
    ) -> None:
        await self._db.comments.delete_many({"article_id": article_id}, session=session)
        await self._db.favorites.delete_many({"article_id": article_id}, session=session)

    async def view(self, slug: str, *, viewer_id: int | None) -> ArticleView | None:
        pipeline: list[Stage] = [
            {"$match": {"slug": slug}},
            {"$limit": 1},
            *with_viewer_fields(viewer_id),
        ]
        cursor = await self._db.articles.aggregate(pipeline, session=self._session)
        found = await cursor.to_list(length=1)
        return view_from(found[0]) if found else None

    async def find(
        self, filters: ArticleFilter, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        collection, stages = _source(filters)
        return await self._page(collection, stages, viewer_id, limit, offset)

    async def feed(self, *, viewer_id: int, limit: int, offset: int) -> Page[ArticleSummary]:
        stages: list[Stage] = [
            {"$match": {"follower_id": viewer_id}},
            *_articles_by("followee_id", "author_id"),
        ]
        return await self._page("follows", stages, viewer_id, limit, offset)

    async def _page(
        self, collection: str, stages: list[Stage], viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        """One command: the sorted matches fan out into the page and their count."""
        pipeline: list[Stage] = [
            *stages,
            _NEWEST_FIRST,
            {
                "$facet": {
                    "page": [{"$skip": offset}, {"$limit": limit}, *with_viewer_fields(viewer_id)],
                    "total": [{"$count": "value"}],
                }
            },
        ]
        cursor = await self._db[collection].aggregate(pipeline, session=self._session)
        (result,) = await cursor.to_list(length=1)
        total = result["total"][0]["value"] if result["total"] else 0
        return Page(tuple(summary_from(doc) for doc in result["page"]), total)

    async def _claim_slug(self, slug: str, *, article_id: int | None) -> None:
        """Tell a taken slug apart before writing: a duplicate-key error inside a transaction
        aborts it, and the caller wants to try another slug in the same unit of work."""
        taken = await self._db.articles.find_one(
            {"slug": slug}, projection={"_id": 1}, session=self._session
        )
        if taken is not None and taken["_id"] != article_id:
            raise AlreadyExists("slug")

    async def _write_with_slug(self, write: Awaitable[T]) -> T:
        """The unique index still decides. A writer that lost a race for the slug after
        ``_claim_slug`` reruns its use case (its transaction is gone) or, without transactions,
        simply tries the next slug."""
        try:
            return await write
        except DuplicateKeyError:
            if self._uow.in_transaction:
                raise TransientConflict from None
            raise AlreadyExists("slug") from None
