"""The relational adapter: SQLAlchemy 2 Core (async) over SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from broadsheet.domain.models import Finding
from broadsheet.storage.sql import check as integrity
from broadsheet.storage.sql import migrations
from broadsheet.storage.sql.uow import READ_ONLY, SqlUnitOfWork
from broadsheet.storage.sql.urls import async_url

__all__ = ["SqlStorage", "SqlUnitOfWork"]


class SqlStorage:
    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        options: dict[str, Any] = {}
        if self.url.get_backend_name() == "mysql":
            # PostgreSQL's default: each statement sees what committed before it. MariaDB's
            # REPEATABLE READ would show a use case a stale snapshot after a no-op insert.
            options["isolation_level"] = "READ COMMITTED"
        self.engine = create_async_engine(self.url, pool_pre_ping=True, **options)
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine)

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    async def migrate(self) -> None:
        await self.migrate_to("head")

    async def migrate_to(self, revision: str) -> None:
        await migrations.upgrade(self.engine, revision)

    async def downgrade_to(self, revision: str) -> None:
        await migrations.downgrade(self.engine, revision)

    async def schema_revision(self) -> str | None:
        return await migrations.current(self.engine)

    async def check(self, *, repair: bool) -> list[Finding]:
        async with self.engine.begin() as connection:
            return await integrity.check(connection, repair=repair)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, a busy timeout, and transactions that take the write lock at
    BEGIN: a deferred transaction that reads and then writes fails at once with "database is
    locked" when another connection wrote in between, whatever the timeout."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
