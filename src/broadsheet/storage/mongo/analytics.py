"""Analytics on documents: each answer is one aggregation pipeline, started from an index.

- tag trends: ``articles {created_at -1, _id -1}`` over the window and the one before it,
  each article's tags unwound and counted per window by a conditional ``$sum``.
- trending: ``favorites {favorited_at 1, article_id 1, article_created_at 1}`` over the
  window, grouped by article (ties broken by the favorites' copy of its ``created_at``, so
  no article is read to rank), then only the top ``limit`` joined to their articles.
- an author's figures: their user by ``username_key``, then one ``$lookup`` per figure, each
  grouped down to one number over an index: the counters where they are kept (the user's
  ``articles_count``, the ``favorites_count`` of each of their articles), the follows
  counted over their two indexes; and the top articles, sorted among the author's (by
  ``author_id``) with their viewer fields joined inside the same ``$lookup``.

Every article read as a summary leaves its body and search fields out (``lists.WITHOUT_BODY``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from broadsheet.domain import rules
from broadsheet.domain.models import AuthorStats, TagTrend, TrendingArticle, Window
from broadsheet.storage.mongo import lists
from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.documents import (
    Document,
    Stage,
    profile_from,
    summary_from,
    with_author,
    with_viewer_fields,
)

BY_FAVORITED_AT: lists.Index = {"favorited_at": 1, "article_id": 1, "article_created_at": 1}
RECEIVED = "_received"  # the favorites an article received in the window
MOST_FAVORITED_FIRST: Stage = {"$sort": {"favorites_count": -1, **lists.NEWEST_FIRST["$sort"]}}


def _within(field: str, start: datetime, end: datetime) -> Stage:
    """Documents whose ``field`` is from ``start`` (included) to ``end`` (not): one index range."""
    return {"$match": {field: {"$gte": start, "$lt": end}}}


def tag_trends_pipeline(window: Window, *, limit: int) -> list[Stage]:
    """Both windows in one index range; an article counts for the current one from its start."""
    in_window = {"$gte": ["$created_at", window.start]}
    return [
        _within("created_at", window.previous_start, window.end),
        {"$project": {"_id": 0, "tags": 1, "created_at": 1}},
        {"$unwind": "$tags"},
        {
            "$group": {
                "_id": "$tags",
                "articles": {"$sum": {"$cond": [in_window, 1, 0]}},
                "previous": {"$sum": {"$cond": [in_window, 0, 1]}},
            }
        },
        {"$match": {"articles": {"$gt": 0}}},
        {"$sort": {"articles": -1, "_id": 1}},
        {"$limit": limit},
    ]


def trending_pipeline(window: Window, *, viewer_id: int | None, limit: int) -> list[Stage]:
    """Ranked from the favorites alone; the articles (one ``_id`` lookup each, in rank order)
    and their viewer fields for the top ``limit`` only."""
    return [
        _within("favorited_at", window.start, window.end),
        {
            "$group": {
                "_id": "$article_id",
                RECEIVED: {"$sum": 1},
                "created_at": {"$first": "$article_created_at"},
            }
        },
        {"$sort": {RECEIVED: -1, "created_at": -1, "_id": -1}},
        {"$limit": limit},
        {
            "$lookup": {
                "from": "articles",
                "localField": "_id",
                "foreignField": "_id",
                "pipeline": [lists.WITHOUT_BODY],
                "as": "_article",
            }
        },
        {"$unwind": "$_article"},  # an article gone meanwhile drops out
        {"$replaceRoot": {"newRoot": {"$mergeObjects": ["$_article", {RECEIVED: f"${RECEIVED}"}]}}},
        *with_viewer_fields(viewer_id),
    ]


def _counted(collection: str, foreign: str, into: str, value: Any = 1) -> Stage:
    """``into``: ``[{"n": the sum of value}]`` over the documents of ``collection`` whose
    ``foreign`` is the user's ``_id`` (none when there are none). ``$group``, as SecantusDB
    takes no ``$count`` in a ``$lookup``."""
    return {
        "$lookup": {
            "from": collection,
            "localField": "_id",
            "foreignField": foreign,
            "pipeline": [{"$group": {"_id": None, "n": {"$sum": value}}}],
            "as": into,
        }
    }


def author_stats_pipeline(username_key: str, *, viewer_id: int | None, top: int) -> list[Stage]:
    """The user, their profile as the viewer sees it (joined as an article's author would
    be), each figure and their top articles: one document, or none for no such user."""
    best: list[Stage] = [
        MOST_FAVORITED_FIRST,
        {"$limit": top},
        lists.WITHOUT_BODY,
        *with_viewer_fields(viewer_id),
    ]
    return [
        {"$match": {"username_key": username_key}},
        {"$limit": 1},
        {"$project": {"articles_count": 1}},
        *with_author(viewer_id, author_field="_id"),
        _counted("follows", "followee_id", "_followers"),
        _counted("follows", "follower_id", "_following"),
        # A counter may dip below zero for a moment (see counters.py); never summed so.
        _counted("articles", "author_id", "_received", {"$max": [0, "$favorites_count"]}),
        {
            "$lookup": {
                "from": "articles",
                "localField": "_id",
                "foreignField": "author_id",
                "pipeline": best,
                "as": "_top",
            }
        },
    ]


def _number(document: Document, field: str) -> int:
    """The figure a :func:`_counted` lookup joined."""
    found = document[field]
    return int(found[0]["n"]) if found else 0


class MongoAnalytics(MongoRepository):
    async def tag_trends(self, window: Window, *, limit: int) -> list[TagTrend]:
        cursor = await self._db.articles.aggregate(
            tag_trends_pipeline(window, limit=limit), session=self._session, hint=lists.NEWEST
        )
        return [
            TagTrend(tag=doc["_id"], articles=int(doc["articles"]), previous=int(doc["previous"]))
            async for doc in cursor
        ]

    async def trending(
        self, window: Window, *, viewer_id: int | None, limit: int
    ) -> list[TrendingArticle]:
        pipeline = trending_pipeline(window, viewer_id=viewer_id, limit=limit)
        cursor = await self._db.favorites.aggregate(
            pipeline, session=self._session, hint=BY_FAVORITED_AT
        )
        return [
            TrendingArticle(article=summary_from(doc), favorites=int(doc[RECEIVED]))
            async for doc in cursor
        ]

    async def author_stats(
        self, username: str, *, viewer_id: int | None, top: int
    ) -> AuthorStats | None:
        pipeline = author_stats_pipeline(rules.username_key(username), viewer_id=viewer_id, top=top)
        cursor = await self._db.users.aggregate(pipeline, session=self._session)
        found = await cursor.to_list(length=1)
        if not found:
            return None
        author = found[0]
        return AuthorStats(
            profile=profile_from(author["author"]),
            articles=max(0, lists.count_in(author, "articles_count")),
            favorites_received=_number(author, "_received"),
            followers=_number(author, "_followers"),
            following=_number(author, "_following"),
            top_articles=tuple(summary_from(doc) for doc in author["_top"]),
        )
