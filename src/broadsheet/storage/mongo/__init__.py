"""The document adapter: MongoDB through PyMongo's asyncio API (``AsyncMongoClient``)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from broadsheet.domain.models import Finding
from broadsheet.storage.mongo import check as integrity
from broadsheet.storage.mongo import migrations
from broadsheet.storage.mongo.uow import MongoUnitOfWork

__all__ = ["MongoStorage", "MongoUnitOfWork"]

DEFAULT_DATABASE = "broadsheet"


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
        raise ValueError(f"{TRANSACTIONS_OPTION} must be auto or off, not {ours[-1]!r}")
    rest = "&".join(p for p in pairs if p.partition("=")[0] != TRANSACTIONS_OPTION)
    return (f"{base}?{rest}" if rest else base), bool(ours) and ours[-1] == "off"


class MongoStorage:
    def __init__(self, url: str) -> None:
        url, transactions_off = _split_options(url)
        # Aware UTC datetimes back, like the SQL adapter; BSON keeps milliseconds.
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, tz_aware=True, tzinfo=UTC
        )
        self.database: AsyncDatabase[dict[str, Any]] = self.client.get_default_database(
            DEFAULT_DATABASE
        )
        self._transactions: bool | None = False if transactions_off else None

    def unit_of_work(self) -> MongoUnitOfWork:
        return MongoUnitOfWork(self)

    async def supports_transactions(self) -> bool:
        """Replica-set members and mongos routers run multi-document transactions; a
        standalone server does not. Asked once, with ``hello``."""
        if self._transactions is None:
            hello = await self.client.admin.command("hello")
            self._transactions = "setName" in hello or hello.get("msg") == "isdbgrid"
        return self._transactions

    async def migrate(self) -> None:
        await migrations.upgrade(self.database)

    async def check(self, *, repair: bool) -> list[Finding]:
        return await integrity.check(self.database, repair=repair)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()
