"""The relational adapter: SQLAlchemy 2 Core (async) over SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, exc, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from broadsheet.domain.models import Finding
from broadsheet.storage import ConnectionOptions, InvalidDatabaseUrl
from broadsheet.storage.sql import check as integrity
from broadsheet.storage.sql import migrations, tables
from broadsheet.storage.sql.availability import outages_as_store_unavailable
from broadsheet.storage.sql.bulk import SqlBulkLoader
from broadsheet.storage.sql.dialects import insert_if_absent
from broadsheet.storage.sql.revocations import SqlTokenRevocations
from broadsheet.storage.sql.tally import tally_statements
from broadsheet.storage.sql.uow import READ_ONLY, SqlUnitOfWork, WriterQueue
from broadsheet.storage.sql.urls import async_url

__all__ = ["SqlStorage", "SqlUnitOfWork"]

# Seconds the client waits past the server's own statement limit before it gives up on a
# server that stopped answering.
CLIENT_MARGIN = 0.5


class SqlStorage:
    def __init__(self, url: str, options: ConnectionOptions | None = None) -> None:
        options = options or ConnectionOptions()
        try:
            self.url = async_url(url)
            self.engine = create_async_engine(
                self.url,
                # No pre-ping: it costs a round trip per unit of work. A connection that died
                # in the pool fails its first statement as an outage (a 503), and SQLAlchemy
                # then discards every connection pooled before the failure.
                # A driver error's text must never carry the statement's values (a password
                # hash, an email) into a log line.
                hide_parameters=True,
                **_engine_options(self.url, options),
            )
        except (exc.ArgumentError, exc.NoSuchModuleError, ValueError) as error:
            raise InvalidDatabaseUrl(f"DATABASE_URL is not usable: {error}") from None
        self._writers: WriterQueue | None = None
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine, busy_timeout=options.sqlite_busy_timeout)
            self._writers = WriterQueue(timeout=options.sqlite_busy_timeout)
        if self.engine.dialect.name == "mysql":
            _limit_mariadb_statements(self.engine, seconds=options.statement_timeout)
        if options.tally_queries:
            tally_statements(self.engine)

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._writers)

    def token_revocations(self) -> SqlTokenRevocations:
        return SqlTokenRevocations(self.engine)

    def bulk_loader(self) -> SqlBulkLoader:
        return SqlBulkLoader(self.engine)

    async def migrate(self) -> None:
        await self.migrate_to("head")

    async def migrate_to(self, revision: str) -> None:
        async with outages_as_store_unavailable():
            await migrations.upgrade(self.engine, revision)

    async def downgrade_to(self, revision: str) -> None:
        async with outages_as_store_unavailable():
            await migrations.downgrade(self.engine, revision)

    async def downgrade_plan(self, revision: str) -> tuple[list[str], str | None]:
        """What ``downgrade_to(revision)`` would revert ("id: title" lines, newest first)
        and, when it drops the tables, how much content goes with them."""
        async with outages_as_store_unavailable():
            reverted = migrations.reverted_by(await migrations.current(self.engine), revision)
            if not any(line.startswith(migrations.INITIAL_REVISION) for line in reverted):
                return reverted, None
            async with self.engine.connect() as connection:
                counts = {
                    label: await connection.scalar(select(func.count()).select_from(table))
                    for label, table in (
                        ("users", tables.user_account),
                        ("articles", tables.article),
                        ("comments", tables.comment),
                    )
                }
        lost = ", ".join(f"{count} {label}" for label, count in counts.items())
        return reverted, f"every table: {lost}, and all follows, favorites and tags"

    async def schema_revision(self) -> str | None:
        async with outages_as_store_unavailable():
            return await migrations.current(self.engine)

    async def schema_problem(self) -> str | None:
        async with outages_as_store_unavailable():
            return await migrations.problem(self.engine)

    async def shared_secret(self, name: str, candidate: str) -> str:
        table = tables.instance_secret
        async with outages_as_store_unavailable(), self.engine.begin() as connection:
            await connection.execute(
                insert_if_absent(connection, table, {"name": name, "value": candidate})
            )
            stored = await connection.scalar(select(table.c.value).where(table.c.name == name))
        assert stored is not None
        return str(stored)

    async def check(self, *, repair: bool) -> list[Finding]:
        async with outages_as_store_unavailable(), self.engine.begin() as connection:
            return await integrity.check(connection, repair=repair)

    async def ping(self) -> None:
        async with outages_as_store_unavailable(), self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def _engine_options(url: URL, options: ConnectionOptions) -> dict[str, Any]:
    """Every wait bounded: connecting, each statement (server side where the server can
    cancel it, client side for a server that stopped answering), and the pool."""
    backend = url.get_backend_name()
    engine: dict[str, Any] = {}
    if backend == "postgresql":
        engine["connect_args"] = {
            "timeout": options.connect_timeout,
            # The client's limit comes a little after the server's, which cancels cleanly.
            "command_timeout": options.statement_timeout + CLIENT_MARGIN,
            "server_settings": {"statement_timeout": str(int(options.statement_timeout * 1000))},
        }
    elif backend == "mysql":
        # PostgreSQL's default: each statement sees what committed before it. MariaDB's
        # REPEATABLE READ would show a use case a stale snapshot after a no-op insert.
        engine["isolation_level"] = "READ COMMITTED"
        engine["connect_args"] = {
            "connect_timeout": options.connect_timeout,  # TCP only; the handshake is a read
            "read_timeout": options.statement_timeout + CLIENT_MARGIN,
        }
    if not (backend == "sqlite" and url.database in {None, "", ":memory:"}):
        engine["pool_timeout"] = options.pool_timeout
        engine["pool_size"] = options.pool_size
        engine["max_overflow"] = options.pool_overflow
    return engine


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout: float) -> None:
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
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # a single read (the revoked-token check) needs no transaction, no lock
        connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE")


def _limit_mariadb_statements(engine: AsyncEngine, *, seconds: float) -> None:
    """MariaDB cancels a statement past ``max_statement_time`` itself (MySQL has no such
    session variable for every statement; there the client's read timeout is the limit)."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT VERSION()")
        (version,) = cursor.fetchone()
        if "mariadb" in str(version).lower():
            cursor.execute(f"SET SESSION max_statement_time = {seconds:g}")
        cursor.close()
