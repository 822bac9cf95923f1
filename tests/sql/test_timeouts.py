"""The timeout settings reach each database (the server-side statement limit, SQLite's busy
timeout), and waiting past them is a domain error the web layer answers 503, not a 500."""

from __future__ import annotations

import sqlite3
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from broadsheet.domain.errors import StoreUnavailable, TransientConflict
from broadsheet.domain.models import TokenClaims
from broadsheet.storage import ConnectionOptions
from broadsheet.storage.sql import SqlStorage
from broadsheet.storage.sql.urls import sqlite_file

OPTIONS = ConnectionOptions(statement_timeout=0.5, sqlite_busy_timeout=0.25)
SETTING = {  # the query, and its answer as text
    "postgresql": ("SHOW statement_timeout", "500ms"),
    "mariadb": ("SELECT @@max_statement_time", "0.5"),
    "sqlite": ("PRAGMA busy_timeout", "250"),
}
SLOW = {"postgresql": "SELECT pg_sleep(3)", "mariadb": "SELECT SLEEP(3)"}


async def test_the_limits_are_set_on_every_connection(sql_url: str, backend: str) -> None:
    query, expected = SETTING[backend]
    storage = SqlStorage(sql_url, OPTIONS)
    try:
        async with storage.engine.connect() as connection:
            value = await connection.scalar(text(query))
    finally:
        await storage.close()

    assert str(value) == expected


async def test_waiting_past_the_limit_is_a_domain_error_not_a_500(
    sql_url: str, backend: str
) -> None:
    """Servers: the statement is cancelled, ``StoreUnavailable``. SQLite: a write lock held
    elsewhere past the busy timeout fails ``BEGIN IMMEDIATE``, ``TransientConflict``."""
    storage = SqlStorage(sql_url, OPTIONS)
    try:
        if backend == "sqlite":
            path = sqlite_file(sql_url)
            assert path is not None
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            try:
                with pytest.raises(TransientConflict):
                    async with storage.unit_of_work():
                        pass
            finally:
                other.execute("ROLLBACK")
                other.close()
        else:
            with pytest.raises(StoreUnavailable):
                async with storage.unit_of_work() as uow:
                    await uow.users._connection.execute(text(SLOW[backend]))
    finally:
        await storage.close()


async def test_the_token_check_with_every_connection_busy_is_unavailable_not_a_500(
    sql_url: str,
) -> None:
    """The pool's own timeout (every connection checked out) is an outage like the others."""
    storage = SqlStorage(sql_url, ConnectionOptions(pool_timeout=0.1))
    pool_size = storage.engine.pool.size() + storage.engine.pool._max_overflow  # type: ignore[attr-defined]
    claims = TokenClaims(
        user_id=1, token_id="t", issued_at=datetime.now(UTC), expires_at=datetime.now(UTC)
    )
    try:
        async with AsyncExitStack() as held:
            for _ in range(pool_size):
                await held.enter_async_context(storage.engine.connect())
            with pytest.raises(StoreUnavailable):
                await storage.token_revocations().is_revoked(claims)
    finally:
        await storage.close()
