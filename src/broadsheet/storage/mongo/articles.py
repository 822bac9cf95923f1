"""Articles as documents: tags embedded, ``favorites_count`` kept beside them; the counters
of each list's total moved with every write (counters.py), each list page read in index
order (lists.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
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
from broadsheet.domain.search import SearchQuery
from broadsheet.storage.mongo import fulltext, lists
from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.counters import Move
from broadsheet.storage.mongo.documents import (
    Document,
    Stage,
    article_from,
    view_from,
    with_viewer_fields,
)

T = TypeVar("T")
# What a list needs of the users it is filtered by: who they are and their counters.
_NAMED = {"username_key": 1, "articles_count": 1, "favorites_count": 1}


def _counted(article: Document, change: int) -> list[Move]:
    """An article counts for its author, each of its tags and the site."""
    return [
        Move("users", article["author_id"], "articles_count", change),
        Move("totals", "articles", "count", change),
        *_tags_counted(article["tags"], change),
    ]


def _tags_counted(tags: Iterable[str], change: int) -> list[Move]:
    return [Move("tags", tag, "articles_count", change) for tag in tags]


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
            **fulltext.fields(new.title, new.description, new.body),
        }
        await self._write_with_slug(self._db.articles.insert_one(document, session=self._session))
        self._uow.article_created_at[article_id] = new.created_at
        await self._uow.count(_counted(document, +1))
        return article_from(document)

    async def get_by_slug(self, slug: str) -> Article | None:
        document = await self._db.articles.find_one(
            {"slug": slug}, projection=fulltext.HIDDEN, session=self._session
        )
        if document is None:
            return None
        self._uow.article_created_at[document["_id"]] = document["created_at"]
        return article_from(document)

    async def update(
        self, before: Article, changes: ArticleChanges, *, updated_at: datetime
    ) -> Article:
        await self._uow.begin_write(article_id=before.id)
        if changes.slug is not None:
            await self._claim_slug(changes.slug, article_id=before.id)
        fields: dict[str, Any] = {**changes.columns(), "updated_at": updated_at}
        if changes.tags is not None:
            fields["tags"] = list(changes.tags)
        after = changes.applied_to(before, updated_at=updated_at)
        if {"title", "description", "body"} & fields.keys():
            fields |= fulltext.fields(after.title, after.description, after.body)
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
        if changes.tags is not None:  # the tags as read are the tags replaced (compare-and-set)
            added, removed = (
                set(changes.tags) - set(before.tags),
                set(before.tags) - set(changes.tags),
            )
            await self._uow.count([*_tags_counted(added, +1), *_tags_counted(removed, -1)])
        return after

    async def delete(self, article_id: int) -> None:
        """The article goes first, then what hangs on it (in the same transaction, if there
        is one). Comments and favorites are stored without locking their article, so one
        may commit after this transaction read the collection: once this unit of work has
        committed they are deleted once more (see ``MongoComments.add`` for why that leaves
        none). Without transactions, the order alone does that, and what a crash leaves
        (comments, favorites of an article that no longer exists, counters not yet moved)
        is unreachable or recounted by ``broadsheet db check --repair``.

        The counters move for what this delete removed: the article as it was deleted
        (``find_one_and_delete``: a concurrent delete of the same article counts nothing
        here), and each favorite this delete removed."""
        await self._uow.begin_write(article_id=article_id)
        deleted = await self._db.articles.find_one_and_delete(
            {"_id": article_id}, projection={"author_id": 1, "tags": 1}, session=self._session
        )
        if deleted is None:
            return
        await self._db.comments.delete_many({"article_id": article_id}, session=self._session)
        if self._uow.in_transaction:
            fans = await self._delete_favorites(article_id)
            self._uow.after_commit(lambda: self._delete_what_hangs_on(article_id))
        else:
            fans = await self._delete_favorites_one_by_one(article_id, self._session)
        await self._uow.count(
            [*_counted(deleted, -1), *(Move("users", fan, "favorites_count", -1) for fan in fans)]
        )

    async def _delete_favorites(self, article_id: int) -> list[int]:
        """In a transaction: its snapshot's favorites of the article, then all of them at
        once. Exactly those go (one removed meanwhile is a write conflict, and the use case
        runs again), so exactly their users are counted."""
        fans = [
            doc["user_id"]
            async for doc in self._db.favorites.find(
                {"article_id": article_id}, projection={"user_id": 1}, session=self._session
            )
        ]
        if fans:
            await self._db.favorites.delete_many({"article_id": article_id}, session=self._session)
        return fans

    async def _delete_favorites_one_by_one(
        self, article_id: int, session: AsyncClientSession | None
    ) -> list[int]:
        """Without a transaction (or after its commit): one ``find_one_and_delete`` per
        favorite, so each is counted by whoever removed it (an unfavorite may race this)."""
        fans = []
        while (
            gone := await self._db.favorites.find_one_and_delete(
                {"article_id": article_id}, projection={"user_id": 1}, session=session
            )
        ) is not None:
            fans.append(gone["user_id"])
        return fans

    async def _delete_what_hangs_on(self, article_id: int) -> None:
        """After the commit: comments and favorites stored meanwhile (usually none)."""
        await self._db.comments.delete_many({"article_id": article_id})
        fans = await self._delete_favorites_one_by_one(article_id, None)
        await self._uow.count(Move("users", fan, "favorites_count", -1) for fan in fans)

    async def view(self, slug: str, *, viewer_id: int | None) -> ArticleView | None:
        pipeline: list[Stage] = [
            {"$match": {"slug": slug}},
            {"$limit": 1},
            {"$project": fulltext.HIDDEN},
            *with_viewer_fields(viewer_id),
        ]
        cursor = await self._db.articles.aggregate(pipeline, session=self._session)
        found = await cursor.to_list(length=1)
        return view_from(found[0]) if found else None

    async def find(
        self, filters: ArticleFilter, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        named = await self._users_named(filters)
        if named is None:
            return Page((), 0)  # a named user does not exist: nothing can match
        author, fan = named
        match: Document = {}
        if filters.tag is not None:
            match["tags"] = filters.tag
        if author is not None:
            match["author_id"] = author["_id"]
        if fan is not None:
            query = lists.favorited(fan, match, limit=limit, offset=offset)
            pending = self._pending("users", "favorites_count", [fan["_id"]])
            return await self._page(query, viewer_id, limit, pending if not match else 0)
        total: int | Stage
        index: lists.Index | None
        if not match:
            total, index = lists.counter("totals", "articles", "count"), lists.NEWEST
            pending = self._pending("totals", "count", ["articles"])
        elif author is None:
            total, index = lists.counter("tags", filters.tag, "articles_count"), lists.BY_TAG
            pending = self._pending("tags", "articles_count", [filters.tag])
        elif filters.tag is None:
            total, index = lists.count_in(author, "articles_count"), lists.BY_AUTHOR
            pending = self._pending("users", "articles_count", [author["_id"]])
        else:  # tag and author: no counter, counted over the same indexed query; either index
            total, index, pending = lists.counted("articles", [{"$match": match}]), None, 0
        query = lists.articles(match, total=total, index=index, limit=limit, offset=offset)
        return await self._page(query, viewer_id, limit, pending)

    async def feed(self, *, viewer_id: int, limit: int, offset: int) -> Page[ArticleSummary]:
        """The followees (and their articles, summed) first: the page is then an index-ordered
        merge of their articles (``$in`` on the leading field of ``author_id, created_at``)."""
        followees: list[Stage] = [
            {"$match": {"follower_id": viewer_id}},
            {"$lookup": {"from": "users", "localField": "followee_id", "foreignField": "_id",
                         "pipeline": [{"$project": {"articles_count": 1}}], "as": "_user"}},
            {"$unwind": "$_user"},
            {"$group": {"_id": None, "ids": {"$push": "$followee_id"},
                        "articles": {"$sum": "$_user.articles_count"}}},
        ]  # fmt: skip
        cursor = await self._db.follows.aggregate(followees, session=self._session)
        found = await cursor.to_list(length=1)
        if not found:
            return Page((), 0)
        followed = found[0]["ids"]
        pending = self._pending("users", "articles_count", followed)
        # Up to MongoDB's internalQueryMaxScansToExplode (200) ranges the author index gives
        # a merge in order; past it the server would read every followee's articles and
        # sort them, so the planner may prefer walking all articles newest first instead.
        index = lists.BY_AUTHOR if len(followed) <= lists.MERGED_RANGES else None
        query = lists.articles(
            {"author_id": {"$in": followed}},
            total=found[0]["articles"],
            index=index,
            limit=limit,
            offset=offset,
        )
        return await self._page(query, viewer_id, limit, pending)

    async def feed_with_tags(
        self, *, viewer_id: int, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        """Two commands: whom the viewer follows and which tags they subscribe to (one
        pipeline over both), then the page and its total (``lists.followed_or_tagged``)."""
        sources: list[Stage] = [
            {"$match": {"follower_id": viewer_id}},
            {"$project": {"_id": 0, "author_id": "$followee_id"}},
            {"$unionWith": {"coll": "tag_subscriptions", "pipeline": [
                {"$match": {"user_id": viewer_id}}, {"$project": {"_id": 0, "tag": 1}}]}},
        ]  # fmt: skip
        cursor = await self._db.follows.aggregate(sources, session=self._session)
        found = await cursor.to_list()
        followed = [doc["author_id"] for doc in found if "author_id" in doc]
        tags = [doc["tag"] for doc in found if "tag" in doc]
        if not followed and not tags:
            return Page((), 0)
        query = lists.followed_or_tagged(followed, tags, limit=limit, offset=offset)
        return await self._page(query, viewer_id, limit, 0)

    async def search(
        self, query: SearchQuery, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        """One command, as a combined filter's list: the ranked page and its total."""
        return await self._page(
            lists.searched(query, limit=limit, offset=offset), viewer_id, limit, 0
        )

    async def _users_named(
        self, filters: ArticleFilter
    ) -> tuple[Document | None, Document | None] | None:
        """The author and the fan a list is filtered by (one indexed find for both), or
        ``None`` if one of them does not exist."""
        keys = {
            role: rules.username_key(name)
            for role, name in (("author", filters.author), ("fan", filters.favorited_by))
            if name is not None
        }
        if not keys:
            return None, None
        found = {
            doc["username_key"]: doc
            async for doc in self._db.users.find(
                {"username_key": {"$in": sorted(set(keys.values()))}},
                projection=_NAMED,
                session=self._session,
            )
        }
        if not set(keys.values()) <= found.keys():
            return None
        return found.get(keys.get("author", "")), found.get(keys.get("fan", ""))

    def _pending(self, collection: str, field: str, keys: Iterable[Any]) -> int:
        """What this unit of work has moved the counters of a total by and not sent yet."""
        moved = self._uow.pending(collection)
        return sum(moved.get(key, {}).get(field, 0) for key in keys) if moved else 0

    async def _page(
        self, query: lists.ListQuery, viewer_id: int | None, limit: int, pending: int
    ) -> Page[ArticleSummary]:
        """One command: the page, its viewer fields and (unless known) its total, to which
        the counter moves this unit of work has not sent yet are added."""
        pipeline = [*query.stages, *with_viewer_fields(viewer_id)]
        if not isinstance(query.total, int):
            pipeline.append(query.total)
        # Larger than the page and its total can be, so one reply holds both: no getMore.
        options: dict[str, Any] = {"batchSize": limit + 2}
        if query.index is not None:
            options["hint"] = query.index
        cursor = await self._db[query.collection].aggregate(
            pipeline, session=self._session, **options
        )
        return lists.page_from(await cursor.to_list(), query.total, pending=pending)

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
