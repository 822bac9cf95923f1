"""Revoked tokens in MongoDB, for deployments without Redis.

One collection, ``revoked_tokens``, two kinds of document: ``token:<jti>`` for a logged-out
token, ``user:<id>`` with ``issued_before`` for a user whose earlier tokens are all revoked.
So the check on every authenticated request is one ``find`` by ``_id``. A TTL index on
``expires_at`` lets the server delete what no longer matters (see ``migrations.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from broadsheet.domain.errors import StoreUnavailable
from broadsheet.domain.models import TokenClaims

COLLECTION = "revoked_tokens"


def _token_key(token_id: str) -> str:
    return f"token:{token_id}"


def _user_key(user_id: int) -> str:
    return f"user:{user_id}"


class MongoTokenRevocations:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = database[COLLECTION]

    async def revoke(self, token_id: str, *, until: datetime) -> None:
        async with _unreachable_as_unavailable():
            await self._collection.update_one(
                {"_id": _token_key(token_id)},
                {"$max": {"expires_at": until}},
                upsert=True,
            )

    async def revoke_issued_before(
        self, user_id: int, instant: datetime, *, until: datetime
    ) -> None:
        async with _unreachable_as_unavailable():
            # $max on both: concurrent changes in any order leave the latest instant.
            await self._collection.update_one(
                {"_id": _user_key(user_id)},
                {"$max": {"issued_before": instant, "expires_at": until}},
                upsert=True,
            )

    async def is_revoked(self, claims: TokenClaims) -> bool:
        keys = [_token_key(claims.token_id), _user_key(claims.user_id)]
        async with _unreachable_as_unavailable():
            found = await self._collection.find({"_id": {"$in": keys}}).to_list(length=2)
        for document in found:
            if document["_id"] == keys[0]:
                return True
            if claims.issued_at < document["issued_before"]:
                return True
        return False


@asynccontextmanager
async def _unreachable_as_unavailable() -> AsyncIterator[None]:
    try:
        yield
    except ConnectionFailure as error:  # server selection timeouts included
        raise StoreUnavailable(type(error).__name__) from error
