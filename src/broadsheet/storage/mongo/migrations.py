"""Versioned, idempotent schema steps for MongoDB: validators and indexes.

``broadsheet db upgrade`` runs every step not yet recorded in the ``migrations`` collection,
in order. Each step may safely run twice (creating an index that exists is a no-op; a
validator is set with ``collMod``), so a crash between a step and its record is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, DuplicateKeyError

from broadsheet.domain import rules

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
        },
        {"bio": _OPTIONAL_STRING, "image": _OPTIONAL_STRING},
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
            "favorites_count": {"bsonType": ["int", "long"], "minimum": 0},
        }
    ),
    "favorites": _schema({"user_id": _INT, "article_id": _INT}),
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
    # ``token:<jti>`` (logout) or ``user:<id>`` with ``issued_before`` (see revocations.py).
    "revoked_tokens": _schema({"_id": _STRING, "expires_at": _DATE}, {"issued_before": _DATE}),
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
    ],
    "favorites": [
        IndexModel([("user_id", ASCENDING), ("article_id", ASCENDING)], unique=True),
        IndexModel([("article_id", ASCENDING)]),
    ],
    "comments": [
        IndexModel([("article_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)]),
    ],
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


STEPS: list[tuple[str, Callable[[Database], Awaitable[None]]]] = [
    ("0001_collections_with_validators", _validators),
    ("0002_indexes", _indexes),
    ("0003_username_keys_nfkc", _username_keys_nfkc),
    ("0004_instance_secrets", _instance_secrets),
    ("0005_revoked_tokens", _revoked_tokens),
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
