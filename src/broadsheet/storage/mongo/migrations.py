"""Versioned, idempotent schema steps for MongoDB: validators, indexes and derived fields.

``broadsheet db upgrade`` runs every step not yet recorded in the ``migrations`` collection,
in order. Each step may safely run twice (creating an index that exists is a no-op; a
validator is set with ``collMod``), so a crash between a step and its record is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, DuplicateKeyError

from broadsheet.domain import rules
from broadsheet.domain.models import Role
from broadsheet.storage.mongo import fulltext

Database = AsyncDatabase[dict[str, Any]]
log = logging.getLogger("broadsheet.migrations")

_INT = {"bsonType": ["int", "long"]}
_STRING = {"bsonType": "string"}
_OPTIONAL_STRING = {"bsonType": ["string", "null"]}
_DATE = {"bsonType": "date"}


def _schema(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "$jsonSchema": {
            "bsonType": "object",
            "required": sorted(required),
            "properties": {**required, **(optional or {})},
        }
    }


VALIDATORS: dict[str, dict[str, Any]] = {
    "users": _schema(
        {
            "_id": _INT,
            "username": _STRING,
            "username_key": _STRING,
            "email": _STRING,
            "password_hash": _STRING,
            # The counters of the lists filtered by this user (see counters.py); no minimum,
            # as for favorites_count below.
            "articles_count": _INT,
            "favorites_count": _INT,
        },
        # role and suspended: absent on a reader, as on every user written before them.
        {
            "bio": _OPTIONAL_STRING,
            "image": _OPTIONAL_STRING,
            "role": {"enum": [role.value for role in Role]},
            "suspended": {"bsonType": "bool"},
        },
    ),
    "follows": _schema({"follower_id": _INT, "followee_id": _INT}),
    "articles": _schema(
        {
            "_id": _INT,
            "slug": _STRING,
            "title": _STRING,
            "description": _STRING,
            "body": _STRING,
            "tags": {"bsonType": "array", "items": _STRING, "uniqueItems": True},
            "author_id": _INT,
            "created_at": _DATE,
            "updated_at": _DATE,
            # No minimum: without transactions the counter may dip below zero for a moment.
            "favorites_count": {"bsonType": ["int", "long"]},
        },
        # Derived from the text (fulltext.py); not required, so a document written
        # without them is still stored, found by no search until ``db upgrade`` fills them.
        {
            fulltext.TERMS: {"bsonType": "array", "items": _STRING},
            fulltext.TEXT: _STRING,
        },
    ),
    # article_created_at: the article's created_at (which never changes), so a user's
    # favorites list in the articles' order from an index. favorited_at: when it was made,
    # for trending articles; not required (as the search fields), so a favorite written
    # without it (by a process still running the code before) is still stored, and simply
    # never trends.
    "favorites": _schema(
        {"user_id": _INT, "article_id": _INT, "article_created_at": _DATE},
        {"favorited_at": _DATE},
    ),
    "comments": _schema(
        {
            "_id": _INT,
            "article_id": _INT,
            "author_id": _INT,
            "body": _STRING,
            "created_at": _DATE,
            "updated_at": _DATE,
        }
    ),
    # One per reader and tag subscribed to (the tag need not be in use).
    "tag_subscriptions": _schema({"user_id": _INT, "tag": _STRING}),
    # Staff actions; actor null: the command line. The actor is kept by name, not by
    # reference: the entry outlives whatever happens to the account.
    "audit_entries": _schema(
        {"_id": _INT, "action": _STRING, "target": _STRING, "at": _DATE},
        {"actor": _OPTIONAL_STRING, "reason": _OPTIONAL_STRING},
    ),
    # Per tag, the number of articles that have it (kept at 0 when none has any more).
    "tags": _schema({"_id": _STRING, "articles_count": _INT}),
    # Site-wide counters: {_id: "articles", count: <number of articles>}.
    "totals": _schema({"_id": _STRING, "count": _INT}),
    # ``token:<jti>`` (logout) or ``user:<id>`` with ``issued_before`` and ``spared_token_id``
    # (see revocations.py).
    "revoked_tokens": _schema(
        {"_id": _STRING, "expires_at": _DATE},
        {"issued_before": _DATE, "spared_token_id": _OPTIONAL_STRING},
    ),
}

INDEXES: dict[str, list[IndexModel]] = {
    "users": [
        IndexModel([("username_key", ASCENDING)], unique=True),
        IndexModel([("email", ASCENDING)], unique=True),
    ],
    "follows": [
        IndexModel([("follower_id", ASCENDING), ("followee_id", ASCENDING)], unique=True),
        IndexModel([("followee_id", ASCENDING), ("follower_id", ASCENDING)]),
    ],
    "articles": [
        IndexModel([("slug", ASCENDING)], unique=True),
        IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("author_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("tags", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([(fulltext.TERMS, ASCENDING)]),  # multikey: one entry per distinct term
    ],
    "favorites": [
        IndexModel([("user_id", ASCENDING), ("article_id", ASCENDING)], unique=True),
        IndexModel([("article_id", ASCENDING)]),
        IndexModel(
            [("user_id", ASCENDING), ("article_created_at", DESCENDING), ("article_id", DESCENDING)]
        ),
        # Trending: the window's favorites, grouped by article, ties broken by the copy of
        # its created_at; every field the group reads is in the key, so MongoDB may answer
        # it from the index alone.
        IndexModel(
            [
                ("favorited_at", ASCENDING),
                ("article_id", ASCENDING),
                ("article_created_at", ASCENDING),
            ]
        ),
    ],
    "tags": [IndexModel([("articles_count", DESCENDING), ("_id", ASCENDING)])],
    "comments": [
        IndexModel([("article_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)]),
    ],
    # Unique: a subscription made twice at once is one (MongoTagSubscriptions.add); and a
    # reader's tags, in order, for their wider feed and their list.
    "tag_subscriptions": [IndexModel([("user_id", ASCENDING), ("tag", ASCENDING)], unique=True)],
    # audit_entries: none but _id, which pages them newest first.
    # TTL: the server deletes an entry once the tokens it covers have expired.
    "revoked_tokens": [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)],
}


# Secrets every process of one installation shares (the generated token signing key).
SECRETS_COLLECTION = "instance_secrets"
SECRET_VALIDATOR = _schema({"_id": _STRING, "value": _STRING})

# VALIDATORS and INDEXES describe the newest schema; each step touches only its own
# collections, so an early step does the same on a new database as it did when written.
_FIRST_COLLECTIONS = ("users", "follows", "articles", "favorites", "comments")


async def _validators(db: Database, names: Iterable[str] = _FIRST_COLLECTIONS) -> None:
    await _apply_validators(db, {name: VALIDATORS[name] for name in names})


async def _instance_secrets(db: Database) -> None:
    await _apply_validators(db, {SECRETS_COLLECTION: SECRET_VALIDATOR})


async def _apply_validators(db: Database, validators: dict[str, dict[str, Any]]) -> None:
    existing = set(await db.list_collection_names())
    for name, validator in validators.items():
        if name in existing:
            await db.command("collMod", name, validator=validator, validationLevel="strict")
        else:
            try:
                await db.create_collection(name, validator=validator)
            except CollectionInvalid:  # created meanwhile by another process
                await db.command("collMod", name, validator=validator)


async def _indexes(db: Database, names: Iterable[str] = _FIRST_COLLECTIONS) -> None:
    for name in names:
        await db[name].create_indexes(INDEXES[name])


async def _revoked_tokens(db: Database) -> None:
    await _validators(db, ["revoked_tokens"])
    await _indexes(db, ["revoked_tokens"])


async def _username_keys_nfkc(db: Database) -> None:
    """Keys stored before were only case-folded; lookups now compute ``rules.username_key``
    (NFKC as well), so recompute each key that differs. A key another account already holds
    stays as it was, logged for an operator to rename one of the two."""
    async for user in db.users.find({}, projection={"username": 1, "username_key": 1}):
        key = rules.username_key(user["username"])
        if key == user["username_key"]:
            continue
        try:
            await db.users.update_one({"_id": user["_id"]}, {"$set": {"username_key": key}})
        except DuplicateKeyError:
            log.warning(
                "user %s (%r) keeps username key %r: %r is held by another user",
                user["_id"],
                user["username"],
                user["username_key"],
                key,
            )


_BATCH = 1000  # writes per bulk_write while a step fills in a field


async def _write_all(
    collection: AsyncCollection[dict[str, Any]], requests: AsyncIterator[UpdateOne]
) -> None:
    """Send the writes as they come, a batch at a time (nothing held in memory but one)."""
    batch = []
    async for request in requests:
        batch.append(request)
        if len(batch) == _BATCH:
            await collection.bulk_write(batch, ordered=False)
            batch = []
    if batch:
        await collection.bulk_write(batch, ordered=False)


async def _grouped(db: Database, collection: str, pipeline: list[dict[str, Any]]) -> dict[Any, int]:
    return {doc["_id"]: doc["n"] async for doc in await db[collection].aggregate(pipeline)}


async def _flat_lists(db: Database) -> None:
    """The counters every list's total is read from, computed from the data, and the
    favorites' copy of their article's ``created_at``; then the validators that require them
    and the indexes the lists are read through. Every value is set, not moved, so the step
    may run again. A favorite whose article is gone gets no date and is not counted (as
    ``broadsheet db check`` counts; its ``--repair`` deletes it)."""
    await _apply_validators(db, {name: VALIDATORS[name] for name in ("tags", "totals")})
    favorites_of: dict[int, int] = {}

    async def dated_favorites() -> AsyncIterator[UpdateOne]:
        joined: list[dict[str, Any]] = [
            {"$lookup": {"from": "articles", "localField": "article_id", "foreignField": "_id",
                         "pipeline": [{"$project": {"created_at": 1}}], "as": "_article"}},
            {"$unwind": "$_article"},
            {"$project": {"user_id": 1, "created_at": "$_article.created_at"}},
        ]  # fmt: skip
        async for favorite in await db.favorites.aggregate(joined):
            user_id = favorite["user_id"]
            favorites_of[user_id] = favorites_of.get(user_id, 0) + 1
            date = {"article_created_at": favorite["created_at"]}
            yield UpdateOne({"_id": favorite["_id"]}, {"$set": date})

    await _write_all(db.favorites, dated_favorites())
    by_author: list[dict[str, Any]] = [{"$group": {"_id": "$author_id", "n": {"$sum": 1}}}]
    articles_of = await _grouped(db, "articles", by_author)
    by_tag: list[dict[str, Any]] = [
        {"$unwind": "$tags"},
        {"$group": {"_id": "$tags", "n": {"$sum": 1}}},
    ]
    uses = await _grouped(db, "articles", by_tag)

    async def counted_users() -> AsyncIterator[UpdateOne]:
        async for user in db.users.find({}, projection={"_id": 1}):
            counts = {
                "articles_count": articles_of.get(user["_id"], 0),
                "favorites_count": favorites_of.get(user["_id"], 0),
            }
            yield UpdateOne({"_id": user["_id"]}, {"$set": counts})

    async def counted_tags() -> AsyncIterator[UpdateOne]:
        async for tag in db.tags.find({}, projection={"_id": 1}):
            if tag["_id"] not in uses:
                yield UpdateOne({"_id": tag["_id"]}, {"$set": {"articles_count": 0}})
        for tag, count in uses.items():
            yield UpdateOne({"_id": tag}, {"$set": {"articles_count": count}}, upsert=True)

    await _write_all(db.users, counted_users())
    await _write_all(db.tags, counted_tags())
    articles = await db.articles.count_documents({})
    await db.totals.update_one({"_id": "articles"}, {"$set": {"count": articles}}, upsert=True)
    await _validators(db, ["users", "favorites"])
    await _indexes(db, ["articles", "favorites", "tags"])


async def _search_terms(db: Database) -> None:
    """Every article's search fields, computed from its text, then their validator and
    index. Each is set, not moved, so the step may run again; compare-and-set on the
    ``updated_at`` read, so an edit meanwhile (which wrote its own) is not overwritten."""

    async def searchable_articles() -> AsyncIterator[UpdateOne]:
        text = {"title": 1, "description": 1, "body": 1, "updated_at": 1}
        async for article in db.articles.find({}, projection=text, batch_size=_BATCH):
            found_by = fulltext.fields(article["title"], article["description"], article["body"])
            version = {"_id": article["_id"], "updated_at": article["updated_at"]}
            yield UpdateOne(version, {"$set": found_by})

    await _write_all(db.articles, searchable_articles())
    await _validators(db, ["articles"])
    await _indexes(db, ["articles"])


async def _favorited_at(db: Database) -> None:
    """When each favorite was made, for trending articles: one made before this step gets
    its article's ``created_at`` (the copy step 0007 gave it), the earliest moment it can
    have been made, so old favorites never look like a new trend. Set only where missing, so
    the step may run again and a favorite made meanwhile keeps its own moment; one of an
    article that is gone has no copy and gets none (``db check --repair`` deletes it). Then
    the validator and the index the trending pipeline starts from."""

    async def undated_favorites() -> AsyncIterator[UpdateOne]:
        undated = {"favorited_at": {"$exists": False}}
        found = db.favorites.find(
            {**undated, "article_created_at": {"$exists": True}},
            projection={"article_created_at": 1},
            batch_size=_BATCH,
        )
        async for favorite in found:
            dated = {"$set": {"favorited_at": favorite["article_created_at"]}}
            yield UpdateOne({"_id": favorite["_id"], **undated}, dated)

    await _write_all(db.favorites, undated_favorites())
    await _validators(db, ["favorites"])
    await _indexes(db, ["favorites"])


async def _tag_subscriptions(db: Database) -> None:
    await _validators(db, ["tag_subscriptions"])
    await _indexes(db, ["tag_subscriptions"])


async def _staff(db: Database) -> None:
    """Roles and suspensions on users (optional fields: nothing to fill in) and the audit log."""
    await _validators(db, ["users", "audit_entries"])


STEPS: list[tuple[str, Callable[[Database], Awaitable[None]]]] = [
    ("0001_collections_with_validators", _validators),
    ("0002_indexes", _indexes),
    ("0003_username_keys_nfkc", _username_keys_nfkc),
    ("0004_instance_secrets", _instance_secrets),
    ("0005_revoked_tokens", _revoked_tokens),
    # The validators again: favorites_count lost its minimum of zero.
    ("0006_favorites_count_unbounded", _validators),
    ("0007_flat_lists", _flat_lists),
    ("0008_search_terms", _search_terms),
    ("0009_favorited_at", _favorited_at),
    ("0010_tag_subscriptions", _tag_subscriptions),
    ("0011_roles_and_audit_log", _staff),
]
UPGRADE_HINT = "run `broadsheet db upgrade`"


async def upgrade(db: Database) -> None:
    applied = {doc["_id"] async for doc in db.migrations.find({}, projection={"_id": 1})}
    for step_id, step in STEPS:
        if step_id in applied:
            continue
        await step(db)
        await db.migrations.update_one(
            {"_id": step_id}, {"$setOnInsert": {"applied_at": datetime.now(UTC)}}, upsert=True
        )


async def applied(db: Database) -> list[str]:
    return [doc["_id"] async for doc in db.migrations.find({}, sort=[("_id", ASCENDING)])]


async def problem(db: Database) -> str | None:
    """Why the recorded steps cannot serve this Broadsheet: some missing, or unknown ones."""
    recorded = set(await applied(db))
    known = [step_id for step_id, _ in STEPS]
    if unknown := sorted(recorded - set(known)):
        return (
            f"schema has unknown migrations {unknown} (a newer Broadsheet's?): upgrade Broadsheet"
        )
    if not recorded:
        return f"schema is missing: {UPGRADE_HINT}"
    if missing := [step_id for step_id in known if step_id not in recorded]:
        return f"schema is behind (missing {', '.join(missing)}): {UPGRADE_HINT}"
    return None
