"""The list pipelines: every page is read in index order and its total comes from a counter.

Each list starts from the collection whose index has the filter's equality first and the
list's order (newest first: ``created_at -1, _id -1``) after it, so the server walks the
index from the start, skips ``offset`` entries and stops after ``limit``: no list sorts or
reads every match, however many there are. ``$skip`` and ``$limit`` come before every
``$lookup``, so the author, ``following`` and ``favorited`` are joined for the page's
documents only. The total is a counter (counters.py), read in the same command by a
``$unionWith`` that appends ``{"_total": n}`` after the page, or already known from the user
document the list was resolved through.

- all: ``articles {created_at -1, _id -1}``; total ``totals {_id: "articles"}.count``
- ``?tag=``: ``articles {tags 1, created_at -1, _id -1}``; total ``tags {_id: tag}.articles_count``
- ``?author=``: ``articles {author_id 1, created_at -1, _id -1}``; the author's ``articles_count``
- ``?favorited=``: ``favorites {user_id 1, article_created_at -1, article_id -1}``, then each
  favorite's article by ``_id``; the fan's ``favorites_count``
- feed: ``articles {author_id 1, created_at -1, _id -1}`` with ``author_id $in`` the followees
  (an index-ordered merge of their ranges, for up to 200 followees: see ``MongoArticles.feed``);
  their ``articles_count``, summed
- wider feed (followed authors or subscribed tags): one ``$match`` with ``$or`` of the
  feed's ``author_id $in`` and ``tags $in`` the tags, each clause from its own index (the
  author and tag indexes above; a hint only when one clause is left, see
  ``followed_or_tagged``); no counter counts a union without its overlap twice, so its
  total is counted over the same ``$match``, in the same command
- search: ``articles {search_terms 1}`` (fulltext.py); every match is read and ranked, so
  its total is counted over the same indexed ``$match``, in the same command

Each of those names its index as the command's ``hint``: the list must walk that index, and a
planner choosing another that matches the filter (the unique ``user_id, article_id`` on
favorites, or ``created_at`` for a feed whose followees write little) would sort or scan.

Combined filters are rare and have no counter: they are counted in the same command over
the same indexed query (in the ``$unionWith``, as ``count_documents`` would), which
reads every match of the combination, and ``?favorited=`` combined with another filter
pages after the join (each of the fan's favorites in order until the page is full).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from broadsheet.domain.models import ArticleSummary, Page
from broadsheet.domain.search import SearchQuery
from broadsheet.storage.mongo import fulltext
from broadsheet.storage.mongo.documents import Document, Stage, summary_from

NEWEST_FIRST: Stage = {"$sort": {"created_at": -1, "_id": -1}}
# The same order: a favorite keeps its article's created_at, and article_id is the article's _id.
FAVORITES_NEWEST_FIRST: Stage = {"$sort": {"article_created_at": -1, "article_id": -1}}
MOST_RELEVANT_FIRST: Stage = {"$sort": {fulltext.RELEVANCE: -1, **NEWEST_FIRST["$sort"]}}
# Nor the search fields: they are as big as the body.
WITHOUT_BODY: Stage = {"$project": {"body": 0, **fulltext.HIDDEN}}
TOTAL = "_total"  # the field of the document a $unionWith appends after the page


Index = dict[str, int]  # a key pattern, as a hint names it
NEWEST: Index = {"created_at": -1, "_id": -1}
BY_TAG: Index = {"tags": 1, **NEWEST}
BY_AUTHOR: Index = {"author_id": 1, **NEWEST}
BY_FAN: Index = {"user_id": 1, "article_created_at": -1, "article_id": -1}
# Up to MongoDB's internalQueryMaxScansToExplode, an ``$in`` of that many values on an
# index's leading field is walked as a merge of their ranges, in the index's order.
MERGED_RANGES = 200


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One list page: the pipeline up to the page's articles (bodies left out), run on
    ``collection`` through ``index``; its total, known already or appended by a
    ``$unionWith`` stage."""

    collection: str
    stages: list[Stage]
    total: int | Stage
    index: Index | None


def _paged(offset: int, limit: int) -> list[Stage]:
    return [{"$skip": offset}, {"$limit": limit}]


def counter(collection: str, key: Any, field: str) -> Stage:
    """Append the counter ``field`` of ``collection``'s document ``key`` (none if missing)."""
    return {
        "$unionWith": {
            "coll": collection,
            "pipeline": [{"$match": {"_id": key}}, {"$project": {"_id": 0, TOTAL: f"${field}"}}],
        }
    }


def counted(collection: str, stages: list[Stage]) -> Stage:
    """Append the number of documents ``stages`` yield from ``collection``: every match.

    (``$group`` rather than its shorthand ``$count``, which SecantusDB refuses in a
    ``$unionWith``; none is appended when nothing matches.)"""
    count: Stage = {"$group": {"_id": None, TOTAL: {"$sum": 1}}}
    return {"$unionWith": {"coll": collection, "pipeline": [*stages, count]}}


def articles(
    match: Document, *, total: int | Stage, index: Index | None, limit: int, offset: int
) -> ListQuery:
    """Articles matching ``match`` (on ``tags`` and/or ``author_id``), newest first."""
    leading: list[Stage] = [{"$match": match}] if match else []
    stages = [*leading, NEWEST_FIRST, *_paged(offset, limit), WITHOUT_BODY]
    return ListQuery("articles", stages, total, index)


def followed_or_tagged(
    followed: Sequence[int], tags: Sequence[str], *, limit: int, offset: int
) -> ListQuery:
    """Articles by any of ``followed`` or with any of ``tags`` (not both empty), each once
    (one ``$match``: a document matches or not, however many clauses it meets), newest
    first, counted.

    MongoDB plans a ``$or`` clause by clause, each from an index with the clause's field
    first and the list's order after it, and merges them in that order. No hint can name
    two indexes, so with both clauses the planner picks; with one, its index is named as
    in the feed (and for the same reason: ``created_at`` walks every article for a reader
    whose authors and tags are quiet)."""
    clauses: list[Document] = []
    if followed:
        clauses.append({"author_id": {"$in": list(followed)}})
    if tags:
        clauses.append({"tags": {"$in": list(tags)}})
    match: Stage = {"$match": clauses[0] if len(clauses) == 1 else {"$or": clauses}}
    index: Index | None = None
    if len(clauses) == 1 and len(followed) + len(tags) <= MERGED_RANGES:
        index = BY_AUTHOR if followed else BY_TAG
    stages = [match, NEWEST_FIRST, *_paged(offset, limit), WITHOUT_BODY]
    return ListQuery("articles", stages, counted("articles", [match]), index)


def searched(query: SearchQuery, *, limit: int, offset: int) -> ListQuery:
    """Articles matching a search, most relevant first, newest first among equals. The
    bodies and search fields go before the sort, which holds every match."""
    match: Stage = {"$match": fulltext.match(query)}
    stages = [
        match,
        fulltext.relevance(query),
        WITHOUT_BODY,
        MOST_RELEVANT_FIRST,
        *_paged(offset, limit),
    ]
    return ListQuery("articles", stages, counted("articles", [match]), fulltext.INDEX)


def _favorited_articles(match: Document, projection: Stage) -> list[Stage]:
    """From each favorite to its article (one ``_id`` lookup), if it also matches ``match``.

    ``$lookup`` directly followed by ``$unwind`` is coalesced by the server, so no document
    ever holds an array; an article that does not match (or is gone) drops out there."""
    return [
        {
            "$lookup": {
                "from": "articles",
                "localField": "article_id",
                "foreignField": "_id",
                "pipeline": [*([{"$match": match}] if match else []), projection],
                "as": "_article",
            }
        },
        {"$unwind": "$_article"},
        {"$replaceRoot": {"newRoot": "$_article"}},
    ]


def favorited(fan: Document, match: Document, *, limit: int, offset: int) -> ListQuery:
    """The fan's favorites in their articles' order, then the articles (which must also
    match ``match``, if given)."""
    by_fan: Stage = {"$match": {"user_id": fan["_id"]}}
    if not match:
        stages = [
            by_fan,
            FAVORITES_NEWEST_FIRST,
            *_paged(offset, limit),
            *_favorited_articles({}, WITHOUT_BODY),
        ]
        return ListQuery("favorites", stages, count_in(fan, "favorites_count"), BY_FAN)
    # Combined: which favorites match is known only after the join, so the page comes after it.
    stages = [
        by_fan,
        FAVORITES_NEWEST_FIRST,
        *_favorited_articles(match, WITHOUT_BODY),
        *_paged(offset, limit),
    ]
    total = counted("favorites", [by_fan, *_favorited_articles(match, {"$project": {"_id": 1}})])
    return ListQuery("favorites", stages, total, BY_FAN)


def count_in(document: Document, field: str) -> int:
    """A counter read from its document (0 if the document predates it)."""
    return int(document.get(field, 0))


def page_from(
    documents: Sequence[Document], total: int | Stage, *, pending: int = 0
) -> Page[ArticleSummary]:
    items = tuple(summary_from(doc) for doc in documents if TOTAL not in doc)
    if not isinstance(total, int):
        total = next((int(doc[TOTAL]) for doc in documents if TOTAL in doc), 0)
    # A counter may dip below zero for a moment (see counters.py); never shown so.
    return Page(items, max(0, total + pending))
