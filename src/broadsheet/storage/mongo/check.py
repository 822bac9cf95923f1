"""The integrity check of the document model: what nothing but the adapter keeps in step.

The counters against what they count (a crash between a write and its ``$inc`` leaves one
off; see counters.py): ``articles.favorites_count``, ``users.favorites_count`` (favorites of
articles that exist), ``users.articles_count``, ``tags.articles_count`` and the ``totals``
of articles; the favorites' copy of their article's ``created_at``; and references without
a target: comments and favorites of articles that are gone, follows, favorites, comments,
articles and tag subscriptions of users that are gone (a crash in the middle of a delete
without transactions, or a comment stored while its article was deleted, before it was
taken back). With ``repair`` each counter is set to its count (only if no write moved it
meanwhile), each copied date is set again, and dangling documents are deleted.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from broadsheet.domain.models import Finding
from broadsheet.storage.mongo.documents import Stage

Database = AsyncDatabase[dict[str, Any]]

# (collection, reference field, collection referred to, how a finding names the documents)
REFERENCES = [
    ("articles", "author_id", "users", "articles by missing user"),
    ("comments", "article_id", "articles", "comments on missing article"),
    ("comments", "author_id", "users", "comments by missing user"),
    ("favorites", "article_id", "articles", "favorites of missing article"),
    ("favorites", "user_id", "users", "favorites by missing user"),
    ("follows", "follower_id", "users", "follows by missing user"),
    ("follows", "followee_id", "users", "follows of missing user"),
    ("tag_subscriptions", "user_id", "users", "tag subscriptions by missing user"),
]

# Each favorite with its article (those of a missing article drop out: they are orphans).
_FAVORITES_WITH_ARTICLE: list[Stage] = [
    {"$lookup": {"from": "articles", "localField": "article_id", "foreignField": "_id",
                 "pipeline": [{"$project": {"created_at": 1}}], "as": "_article"}},
    {"$unwind": "$_article"},
]  # fmt: skip


async def check(db: Database, *, repair: bool) -> list[Finding]:
    findings = await _article_favorites(db, repair=repair)
    findings += await _favorite_dates(db, repair=repair)
    findings += await _user_counters(db, repair=repair)
    findings += await _tag_counters(db, repair=repair)
    findings += await _article_total(db, repair=repair)
    for collection, field, target, kind in REFERENCES:
        findings += await _dangling(db, collection, field, target, kind, repair=repair)
    return findings


async def _grouped(db: Database, collection: str, pipeline: list[Stage]) -> dict[Any, int]:
    """``{_id: n}`` of a pipeline that ends in a ``$group``."""
    return {doc["_id"]: doc["n"] async for doc in await db[collection].aggregate(pipeline)}


def _says(kept: object) -> str:
    return "says nothing" if kept is None else f"says {kept}"


async def _recount(
    db: Database,
    collection: str,
    key: Any,
    field: str,
    kept: int | None,
    counted: int,
    *,
    upsert: bool = False,
) -> bool:
    """Set the counter, only if no write moved it since it was read (``kept``)."""
    try:
        result = await db[collection].update_one(
            {"_id": key, field: kept}, {"$set": {field: counted}}, upsert=upsert
        )
    except DuplicateKeyError:  # an upsert, but the document exists: it moved meanwhile
        return False
    return result.modified_count == 1 or result.upserted_id is not None


async def _article_favorites(db: Database, *, repair: bool) -> list[Finding]:
    grouped: list[Stage] = [{"$group": {"_id": "$article_id", "n": {"$sum": 1}}}]
    truth = await _grouped(db, "favorites", grouped)
    findings = []
    articles = db.articles.find({}, projection={"slug": 1, "favorites_count": 1}, sort=[("_id", 1)])
    async for doc in articles:
        kept, counted = doc.get("favorites_count"), truth.get(doc["_id"], 0)
        if kept == counted:
            continue
        repaired = repair and await _recount(
            db, "articles", doc["_id"], "favorites_count", kept, counted
        )
        findings.append(
            Finding(
                kind="favorites_count",
                detail=f"article {doc['_id']} ({doc['slug']}) {_says(kept)}, has {counted}",
                repaired=repaired,
            )
        )
    return findings


async def _favorite_dates(db: Database, *, repair: bool) -> list[Finding]:
    """Each favorite's ``article_created_at`` against its article's ``created_at`` (one
    finding for them all, as on SQL: a sort key copied wrong is one kind of drift)."""
    differing: list[Stage] = [
        *_FAVORITES_WITH_ARTICLE,
        {"$match": {"$expr": {"$ne": ["$article_created_at", "$_article.created_at"]}}},
        {"$project": {"created_at": "$_article.created_at"}},
    ]
    count = 0
    async for doc in await db.favorites.aggregate(differing):
        count += 1
        if repair:
            await db.favorites.update_one(
                {"_id": doc["_id"]}, {"$set": {"article_created_at": doc["created_at"]}}
            )
    if not count:
        return []
    detail = f"{count} favorites.article_created_at differ from their article's created_at"
    return [Finding(kind="sort key", detail=detail, repaired=repair)]


async def _user_counters(db: Database, *, repair: bool) -> list[Finding]:
    by_author: list[Stage] = [{"$group": {"_id": "$author_id", "n": {"$sum": 1}}}]
    by_fan: list[Stage] = [
        *_FAVORITES_WITH_ARTICLE,
        {"$group": {"_id": "$user_id", "n": {"$sum": 1}}},
    ]
    truths = {
        "articles_count": await _grouped(db, "articles", by_author),
        "favorites_count": await _grouped(db, "favorites", by_fan),
    }
    findings = []
    users = db.users.find(
        {}, projection={"username": 1, **dict.fromkeys(truths, 1)}, sort=[("_id", 1)]
    )
    async for user in users:
        for field, truth in truths.items():
            kept, counted = user.get(field), truth.get(user["_id"], 0)
            if kept == counted:
                continue
            repaired = repair and await _recount(db, "users", user["_id"], field, kept, counted)
            findings.append(
                Finding(
                    kind=field,
                    detail=f"user {user['_id']} ({user['username']}) {_says(kept)}, has {counted}",
                    repaired=repaired,
                )
            )
    return findings


async def _tag_counters(db: Database, *, repair: bool) -> list[Finding]:
    by_tag: list[Stage] = [{"$unwind": "$tags"}, {"$group": {"_id": "$tags", "n": {"$sum": 1}}}]
    truth = await _grouped(db, "articles", by_tag)
    kept_counts = {
        doc["_id"]: doc.get("articles_count")
        async for doc in db.tags.find({}, projection={"articles_count": 1})
    }
    findings = []
    for tag in sorted(truth.keys() | kept_counts.keys()):
        counted = truth.get(tag, 0)
        if tag not in kept_counts:  # a missing document counts 0: a finding only if it is not
            repaired = repair and await _recount(
                db, "tags", tag, "articles_count", None, counted, upsert=True
            )
            findings.append(
                Finding(
                    kind="articles_count", detail=f"tag {tag} has no counter", repaired=repaired
                )
            )
            continue
        kept = kept_counts[tag]
        if kept == counted:
            continue
        repaired = repair and await _recount(db, "tags", tag, "articles_count", kept, counted)
        findings.append(
            Finding(
                kind="articles_count",
                detail=f"tag {tag} {_says(kept)}, has {counted}",
                repaired=repaired,
            )
        )
    return findings


async def _article_total(db: Database, *, repair: bool) -> list[Finding]:
    stored = await db.totals.find_one({"_id": "articles"})
    counted = await db.articles.count_documents({})
    if stored is None:  # a missing document counts 0
        if not counted:
            return []
        repaired = repair and await _recount(
            db, "totals", "articles", "count", None, counted, upsert=True
        )
        return [Finding(kind="articles_total", detail="site has no counter", repaired=repaired)]
    kept = stored.get("count")
    if kept == counted:
        return []
    repaired = repair and await _recount(db, "totals", "articles", "count", kept, counted)
    detail = f"site {_says(kept)}, has {counted}"
    return [Finding(kind="articles_total", detail=detail, repaired=repaired)]


async def _dangling(
    db: Database, collection: str, field: str, target: str, kind: str, *, repair: bool
) -> list[Finding]:
    pipeline: list[Stage] = [
        {"$group": {"_id": f"${field}", "documents": {"$sum": 1}}},
        {
            "$lookup": {
                "from": target,
                "localField": "_id",
                "foreignField": "_id",
                "pipeline": [{"$project": {"_id": 1}}],
                "as": "_target",
            }
        },
        {"$match": {"_target": {"$size": 0}}},
        {"$sort": {"_id": 1}},
    ]
    findings = []
    async for group in await db[collection].aggregate(pipeline):
        if repair:
            await db[collection].delete_many({field: group["_id"]})
        findings.append(
            Finding(
                kind="orphan",
                detail=f"{group['documents']} {kind} {group['_id']}",
                repaired=repair,
            )
        )
    return findings
