"""The document adapter: MongoDB through PyMongo's asyncio API (``AsyncMongoClient``)."""

from __future__ import annotations

import contextlib
from datetime import UTC
from typing import Any

from pymongo import AsyncMongoClient, ReadPreference
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.client_session_shared import (
    TransactionOptions,
)  # defined here, re-exported in pymongo.client_session
from pymongo.errors import ConfigurationError, DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from broadsheet.domain.models import Finding
from broadsheet.storage import ConnectionOptions, InvalidDatabaseUrl
from broadsheet.storage.mongo import check as integrity
from broadsheet.storage.mongo import migrations
from broadsheet.storage.mongo.availability import outages_as_store_unavailable
from broadsheet.storage.mongo.bulk import MongoBulkLoader
from broadsheet.storage.mongo.revocations import MongoTokenRevocations
from broadsheet.storage.mongo.tally import CommandTally
from broadsheet.storage.mongo.uow import MongoUnitOfWork

__all__ = ["MongoStorage", "MongoUnitOfWork"]

DEFAULT_DATABASE = "broadsheet"
# $lookup with both localField and pipeline, used by every list page, came in 5.0.
MIN_SERVER_VERSION = (5, 0)


# Broadsheet's own URL option, removed before PyMongo sees the URL: ``off`` runs without
# transactions even where the server has them (standalone write ordering).
TRANSACTIONS_OPTION = "broadsheet_transactions"


def _split_options(url: str) -> tuple[str, bool]:
    """The URL without Broadsheet's option (left byte for byte otherwise: PyMongo reads
    option values such as ``readPreferenceTags=dc:ny`` raw), and whether it said ``off``."""
    base, question, query = url.partition("?")
    if not question:
        return url, False
    pairs = query.split("&")
    ours = [p.partition("=")[2] for p in pairs if p.partition("=")[0] == TRANSACTIONS_OPTION]
    if ours and ours[-1] not in {"auto", "off"}:
        raise InvalidDatabaseUrl(f"{TRANSACTIONS_OPTION} must be auto or off, not {ours[-1]!r}")
    rest = "&".join(p for p in pairs if p.partition("=")[0] != TRANSACTIONS_OPTION)
    return (f"{base}?{rest}" if rest else base), bool(ours) and ours[-1] == "off"


def _timeouts(url: str, options: ConnectionOptions) -> dict[str, Any]:
    """Broadsheet's timeouts, except those the URL sets itself (the URL wins)."""
    in_url = {p.partition("=")[0].lower() for p in url.partition("?")[2].split("&") if p}
    timeouts = {
        "serverSelectionTimeoutMS": options.server_selection_timeout,
        "connectTimeoutMS": options.connect_timeout,
        # One limit for a whole operation, retries included (client-side operation timeout).
        "timeoutMS": options.statement_timeout,
    }
    return {
        key: int(seconds * 1000) for key, seconds in timeouts.items() if key.lower() not in in_url
    }


def server_too_old(build_info: dict[str, Any]) -> str | None:
    """Why the server (as ``buildInfo`` describes it) cannot run Broadsheet, if it cannot."""
    version = tuple(int(part) for part in build_info.get("versionArray", [])[:2])
    if version >= MIN_SERVER_VERSION:
        return None
    needed = ".".join(map(str, MIN_SERVER_VERSION))
    return (
        f"MongoDB {build_info.get('version', '?')} is too old: Broadsheet needs {needed} or newer"
    )


class MongoStorage:
    def __init__(self, url: str, options: ConnectionOptions | None = None) -> None:
        options = options or ConnectionOptions()
        url, transactions_off = _split_options(url)
        # Passed only when asked for: a client without listeners publishes no events at all.
        listeners: dict[str, Any] = (
            {"event_listeners": [CommandTally()]} if options.tally_queries else {}
        )
        try:
            # Aware UTC datetimes back, like the SQL adapter; BSON keeps milliseconds.
            self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                url, tz_aware=True, tzinfo=UTC, **_timeouts(url, options), **listeners
            )
            self.database: AsyncDatabase[dict[str, Any]] = self.client.get_default_database(
                DEFAULT_DATABASE
            )
        except (ConfigurationError, ValueError) as error:
            raise InvalidDatabaseUrl(f"DATABASE_URL is not usable: {error}") from None
        # Explicit, not inherited from the URL or the server's defaults: a transaction reads
        # from the primary (a URL's readPreference=secondaryPreferred would otherwise make
        # every write fail), sees one snapshot, commits durably, and commits in bounded time.
        self.transaction_options = TransactionOptions(
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
            read_preference=ReadPreference.PRIMARY,
            max_commit_time_ms=int(options.statement_timeout * 1000),
        )
        self._transactions: bool | None = False if transactions_off else None

    def unit_of_work(self) -> MongoUnitOfWork:
        return MongoUnitOfWork(self)

    def token_revocations(self) -> MongoTokenRevocations:
        return MongoTokenRevocations(self.database)

    def bulk_loader(self) -> MongoBulkLoader:
        return MongoBulkLoader(self.database)

    async def supports_transactions(self) -> bool:
        """Replica-set members and mongos routers run multi-document transactions; a
        standalone server does not. Asked once, with ``hello``."""
        if self._transactions is None:
            async with outages_as_store_unavailable():
                hello = await self.client.admin.command("hello")
            self._transactions = "setName" in hello or hello.get("msg") == "isdbgrid"
        return self._transactions

    async def migrate(self) -> None:
        async with outages_as_store_unavailable():
            await migrations.upgrade(self.database)

    async def schema_problem(self) -> str | None:
        async with outages_as_store_unavailable():
            too_old = server_too_old(await self.client.admin.command("buildInfo"))
            return too_old or await migrations.problem(self.database)

    async def shared_secret(self, name: str, candidate: str) -> str:
        secrets = self.database.get_collection(
            migrations.SECRETS_COLLECTION, read_preference=ReadPreference.PRIMARY
        )
        async with outages_as_store_unavailable():
            # DuplicateKeyError: a concurrent upsert of the same _id won; read its value.
            with contextlib.suppress(DuplicateKeyError):
                await secrets.update_one(
                    {"_id": name}, {"$setOnInsert": {"value": candidate}}, upsert=True
                )
            stored = await secrets.find_one({"_id": name})
        assert stored is not None
        return str(stored["value"])

    async def check(self, *, repair: bool) -> list[Finding]:
        async with outages_as_store_unavailable():
            return await integrity.check(self.database, repair=repair)

    async def ping(self) -> None:
        async with outages_as_store_unavailable():
            await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()
