"""SQLite's outage: a write lock held by another connection past the busy timeout.

SQLite has no server to lose; what stands in for an outage is another process holding the
write lock. ``BEGIN IMMEDIATE`` then fails with "database is locked": that must be a
``TransientConflict`` (the use case is run again), and when every attempt fails a 503 with
Retry-After, never a 500. Reads read a snapshot beside the lock and still answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from broadsheet.services import retry
from broadsheet.settings import Settings
from broadsheet.storage.sql.urls import sqlite_file
from broadsheet.web.app import create_app
from tests import databases
from tests.conftest import BACKENDS
from tests.live_server import report

BUSY_TIMEOUT = 0.2


SQLITE_BACKENDS = [b for b in BACKENDS if b == "sqlite"]


def _sqlite_settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key="test-secret-key-0123456789abcdef",
        auto_migrate=False,
        sqlite_busy_timeout_seconds=BUSY_TIMEOUT,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )


@contextlib.contextmanager
def _write_lock(url: str) -> Iterator[sqlite3.Connection]:
    """Another connection holding SQLite's write lock, as a long write elsewhere would."""
    path = sqlite_file(url)
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


@contextlib.asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await databases.empty_at(settings.database_url)
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as http:
            yield http


def _sign_up(name: str) -> dict[str, object]:
    return {"user": {"username": name, "email": f"{name}@x.io", "password": "pw-12345678"}}


@pytest.fixture(params=SQLITE_BACKENDS)
def sqlite_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[str(request.param)]  # created here, outside any event loop


async def test_a_sqlite_write_lock_past_the_busy_timeout_is_retried_then_a_503(
    sqlite_url: str,
) -> None:
    url = sqlite_url
    async with _client(_sqlite_settings(url)) as client:
        with _write_lock(url):
            started = time.monotonic()
            write = await client.post("/users", json=_sign_up("locked"))
            write_seconds = time.monotonic() - started
            read = await client.get("/articles")

    report(
        "reliability",
        f"sqlite locked: sign-up {write.status_code} after {write_seconds:.2f}s, "
        f"list {read.status_code}",
    )
    assert write.status_code == 503, write.text
    assert write.headers["retry-after"]
    assert list(write.json()["errors"]) == ["request"]
    # A read takes no write lock (a WAL snapshot): it answers while the writer waits.
    assert read.status_code == 200, read.text
    # Every attempt waited out the busy timeout: the use case was run again, not given up.
    assert write_seconds >= retry.ATTEMPTS * BUSY_TIMEOUT * 0.9


async def test_a_sqlite_write_lock_released_while_retrying_lets_the_write_through(
    sqlite_url: str,
) -> None:
    url = sqlite_url
    async with _client(_sqlite_settings(url)) as client:
        with _write_lock(url) as other:
            # Released after the first attempts gave up, before the last one does.
            asyncio.get_running_loop().call_later(2.5 * BUSY_TIMEOUT, other.rollback)
            response = await client.post("/users", json=_sign_up("patient"))

    assert response.status_code == 201, response.text
