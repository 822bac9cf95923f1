"""What every Mongo repository shares: the unit of work's session, ids, error translation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from broadsheet.domain.errors import AlreadyExists

if TYPE_CHECKING:
    from broadsheet.storage.mongo.uow import MongoUnitOfWork

_ID_ATTEMPTS = 3
# The unique index behind each domain field (see migrations.py).
_UNIQUE_FIELDS = {"username_key": "username", "email": "email", "slug": "slug"}


class MongoRepository:
    def __init__(self, uow: MongoUnitOfWork) -> None:
        self._uow = uow
        self._db: AsyncDatabase[dict[str, Any]] = uow.database

    @property
    def _session(self) -> AsyncClientSession:
        return self._uow.session

    async def _next_id(self, sequence: str) -> int:
        """An integer id from an atomic counter, outside any transaction: concurrent units of
        work never conflict on it, and an id lost to a rollback is simply never used."""
        for _ in range(_ID_ATTEMPTS):
            # Two first upserts of a sequence race to create it: the loser may get a
            # duplicate key error or (SecantusDB) no document back. Asking again is safe: at
            # worst a number is skipped, and ids need only be unique.
            with suppress(DuplicateKeyError):
                counter = await self._db.counters.find_one_and_update(
                    {"_id": sequence},
                    {"$inc": {"value": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                if counter is not None:
                    return int(counter["value"])
        raise RuntimeError(f"no id from the {sequence!r} counter after {_ID_ATTEMPTS} attempts")


def duplicate_field(error: DuplicateKeyError) -> str | None:
    pattern = (error.details or {}).get("keyPattern") or {}
    return next((_UNIQUE_FIELDS[key] for key in pattern if key in _UNIQUE_FIELDS), None)


@asynccontextmanager
async def unique_violations_as_domain_errors() -> AsyncIterator[None]:
    """Error 11000 on a unique index becomes ``AlreadyExists(field)``, as in SQL."""
    try:
        yield
    except DuplicateKeyError as error:
        field = duplicate_field(error)
        if field is None:
            raise
        raise AlreadyExists(field) from None
