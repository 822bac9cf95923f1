"""Counters kept beside the data, so that no list counts its matches.

| counter | moved by |
|---|---|
| ``articles.favorites_count`` | favorite added or removed |
| ``users.favorites_count`` | favorite added or removed; its article deleted (each fan) |
| ``users.articles_count`` | article added or deleted |
| ``tags.articles_count`` | article added or deleted, tag added to or removed from one |
| ``totals`` ``{_id: "articles"}.count`` | article added or deleted |

Every one moves with ``$inc``, outside the transaction, just before the commit (see
``MongoUnitOfWork.count``), and is moved back if the commit does not happen:

- outside, because each is a hot document: ``totals`` takes every create and delete on the
  site, a popular tag or article takes many writers at once, and an article's delete moves
  the ``users`` document of every fan, who may be favoriting something else meanwhile. In
  the transaction each of those would be a write conflict, and the use case would run again.
  (``users.articles_count`` is the author's own, but shares its document with
  ``favorites_count``, which others move: a document is only ever moved outside.)
- just before the commit, not as each write happens: a transaction cannot write a document
  after the same unit of work changed it outside (the change is newer than its snapshot: a
  write conflict with itself, e.g. a favorite and then the article's delete), and a write
  outside to a document the transaction has written would wait for the transaction, which
  waits for it. So the moves wait until the transaction's last write, and a document it
  wrote itself (an article it made or deleted) is moved inside it.
- before the commit, not after: no reader sees a committed favorite or article that is not
  counted yet, and a move that fails leaves nothing committed (the use case fails whole),
  where a failure after the commit would answer an error for a write that stands.

Without transactions each move is sent right after the write it counts (the data first, so
a crash in between leaves a counter behind the data, never ahead of it). Either way a crash
at the wrong moment leaves a counter off, and ``broadsheet db check --repair`` recounts it.
Every document created is counted once by the unit of work that created it, and every one
deleted is counted once by the one whose delete removed it (``deleted_count``, or the
document ``find_one_and_delete`` returned), so concurrent writers never count twice. A
counter may dip below zero for a moment when a removal's ``-1`` overtakes the ``+1`` of what
it removes: reads show at least zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

Database = AsyncDatabase[dict[str, Any]]
Key = tuple[str, Any]  # (collection, _id)
Changes = dict[Key, dict[str, int]]

# Counter documents a move creates (a missing one counts 0); users and articles must exist.
_CREATED_BY_A_MOVE = frozenset({"tags", "totals"})
_DUPLICATE_KEY = 11000
_UPSERT_ATTEMPTS = 3


class Move(NamedTuple):
    collection: str
    key: Any
    field: str
    change: int


def total(changes: Iterable[Move]) -> Changes:
    """The moves summed per document and field; those that cancel out are dropped."""
    summed: Changes = {}
    for move in changes:
        fields = summed.setdefault((move.collection, move.key), {})
        fields[move.field] = fields.get(move.field, 0) + move.change
    return {
        key: kept
        for key, fields in summed.items()
        if (kept := {field: change for field, change in fields.items() if change})
    }


def negated(changes: Changes) -> Changes:
    return {
        key: {field: -change for field, change in fields.items()} for key, fields in changes.items()
    }


def by_collection(changes: Changes) -> dict[str, Changes]:
    grouped: dict[str, Changes] = {}
    for key, fields in changes.items():
        grouped.setdefault(key[0], {})[key] = fields
    return grouped


async def apply(
    db: Database, changes: Changes, *, session: AsyncClientSession | None = None
) -> None:
    """One ``bulk_write`` of ``$inc`` per collection."""
    for collection, moves in by_collection(changes).items():
        await apply_to(db, collection, moves, session=session)


async def apply_to(
    db: Database,
    collection: str,
    changes: Mapping[Key, dict[str, int]],
    *,
    session: AsyncClientSession | None = None,
) -> None:
    upsert = collection in _CREATED_BY_A_MOVE
    requests = [
        UpdateOne({"_id": key}, {"$inc": fields}, upsert=upsert)
        for (_, key), fields in changes.items()
    ]
    for attempt in range(1, _UPSERT_ATTEMPTS + 1):
        try:
            await db[collection].bulk_write(requests, ordered=False, session=session)
            return
        except BulkWriteError as error:
            # Two upserts of a counter that did not exist yet: one inserted, the other lost
            # the race on _id and moved nothing. Sent again, it finds the document.
            failed = error.details.get("writeErrors", [])
            if attempt == _UPSERT_ATTEMPTS or any(e["code"] != _DUPLICATE_KEY for e in failed):
                raise
            requests = [requests[e["index"]] for e in failed]
