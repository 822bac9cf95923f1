"""The integrity check of the document model: what nothing but the adapter keeps in step.

``favorites_count`` against the favorites it counts (a crash between a favorite and its
``$inc`` leaves it off by one), and references without a target: comments and favorites of
articles that are gone, follows, favorites, comments and articles of users that are gone (a
crash in the middle of a delete without transactions, or a comment stored while its
article was deleted, before it was taken back). With ``repair`` the counter is recounted
and dangling documents are deleted.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

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
]


async def check(db: Database, *, repair: bool) -> list[Finding]:
    findings = await _counters(db, repair=repair)
    for collection, field, target, kind in REFERENCES:
        findings += await _dangling(db, collection, field, target, kind, repair=repair)
    return findings


async def _counters(db: Database, *, repair: bool) -> list[Finding]:
    grouped: list[Stage] = [{"$group": {"_id": "$article_id", "favorites": {"$sum": 1}}}]
    truth = {doc["_id"]: doc["favorites"] async for doc in await db.favorites.aggregate(grouped)}
    findings = []
    articles = db.articles.find({}, projection={"slug": 1, "favorites_count": 1}, sort=[("_id", 1)])
    async for doc in articles:
        kept, counted = doc["favorites_count"], truth.get(doc["_id"], 0)
        if kept == counted:
            continue
        repaired = False
        if repair:  # only if no favorite moved the counter meanwhile
            result = await db.articles.update_one(
                {"_id": doc["_id"], "favorites_count": kept},
                {"$set": {"favorites_count": counted}},
            )
            repaired = result.modified_count == 1
        findings.append(
            Finding(
                kind="favorites_count",
                detail=f"article {doc['_id']} ({doc['slug']}) says {kept}, has {counted}",
                repaired=repaired,
            )
        )
    return findings


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
