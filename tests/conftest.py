"""Fixtures that build real databases, one per selected backend, and the app over each.

``BROADSHEET_TEST_BACKENDS`` (comma list of memory, sqlite, postgresql, mariadb, mongodb,
mongodb-standalone; default sqlite) picks the backends the API suite runs on. The contract
suite always adds ``memory``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

import redis
from broadsheet.domain.ports import Storage
from broadsheet.settings import Settings
from broadsheet.storage import open_storage
from broadsheet.web.app import create_app
from tests import databases
from tests.live_server import FIGURES, LIVE_BACKENDS, Findings, LiveServer, serving
from tests.mongo_server import mongo_server, standalone_mongo_server

BACKENDS = databases.selected_backends()
# Redis runs on every machine this is developed and tested on; tests use their own prefix.
REDIS_URL = os.environ.get("BROADSHEET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CONTRACT_BACKENDS = ["memory", *[b for b in BACKENDS if b != "memory"]]
# Engine-specific suites are only collected when their engine is selected.
# The benchmark's own test needs wrk (a Debian package, not on a machine with only Python):
# CI installs it and sets BROADSHEET_TEST_BENCH=1.
collect_ignore = [
    *(["sql"] if not {"sqlite", "postgresql", "mariadb"} & set(BACKENDS) else []),
    *(["mongo"] if "mongodb" not in BACKENDS else []),
    *(["bench"] if os.environ.get("BROADSHEET_TEST_BENCH") != "1" else []),
]
# Backends without transactions cannot promise rollback; they run every other contract test.
TRANSACTIONAL_BACKENDS = [b for b in CONTRACT_BACKENDS if b != "mongodb-standalone"]


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Created lazily, one per backend, dropped when the run ends."""
    created: dict[str, str] = {}
    workdir: Path = tmp_path_factory.mktemp("databases")

    class Lazy(dict[str, str]):
        def __missing__(self, backend: str) -> str:
            created[backend] = self[backend] = databases.create_database(backend, workdir)
            return created[backend]

    yield Lazy()
    try:
        for backend, url in created.items():
            databases.drop_database(backend, url)
    finally:
        mongo_server.stop()
        standalone_mongo_server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=CONTRACT_BACKENDS)
def contract_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def contract_database_url(contract_backend: str, database_urls: dict[str, str]) -> str:
    return database_urls[contract_backend]  # created here, outside any running event loop


@asynccontextmanager
async def empty_storage(url: str) -> AsyncIterator[Storage]:
    store = open_storage(url)
    await databases.empty(store)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def storage(contract_database_url: str) -> AsyncIterator[Storage]:
    """An open, empty store of every backend: what the contract tests run against."""
    async with empty_storage(contract_database_url) as store:
        yield store


@pytest.fixture(params=TRANSACTIONAL_BACKENDS)
async def transactional_storage(
    request: pytest.FixtureRequest, database_urls: dict[str, str]
) -> AsyncIterator[Storage]:
    """As ``storage``, for the contract tests of rollback, which need transactions."""
    async with empty_storage(database_urls[str(request.param)]) as store:
        yield store


@pytest.fixture
def settings(backend: str, database_urls: dict[str, str]) -> Settings:
    url = database_urls[backend]
    return Settings(
        database_url=url,
        secret_key="test-secret-key-0123456789abcdef",
        auto_migrate=False,
        # Still Argon2id, at the cheapest cost: tests hash hundreds of passwords.
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        # Off for the suite; tests/api/test_rate_limits.py turns them on with small allowances.
        rate_limits=False,
        # The suite asserts what each request does, even when a test sends a burst at one
        # in-process app on a loaded CI machine; how much a server holds before it answers
        # 503 is measured by the live-server batteries (tests/reliability) at the defaults.
        db_pool_timeout_seconds=60,
    )


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    """A key prefix unique to this run; every key under it is deleted when the run ends."""
    prefix = f"broadsheet-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    with redis.Redis.from_url(REDIS_URL) as client:
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)


def with_redis(settings: Settings, redis_prefix: str) -> Settings:
    """The settings with Redis on, under a prefix of their own (no counts shared by tests)."""
    return settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_key_prefix": f"{redis_prefix}:{uuid.uuid4().hex}"}
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    await databases.empty_at(settings.database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the API; paths are relative to ``/api``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as http:
        yield http


# The whole-server batteries (tests/reliability, tests/security): one live server per backend
# per module, a pooled client per test, and each battery's figures in the run's summary.


@pytest.fixture(scope="module", params=LIVE_BACKENDS)
def live_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    database_urls: dict[str, str],  # its teardown stops the MongoDB test server
) -> Iterator[LiveServer]:
    with serving(str(request.param), tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with live_server.client() as client:
        yield client


@pytest.fixture
async def findings(request: pytest.FixtureRequest, live_server: LiveServer) -> Findings:
    """Problems and figures of one test, checked and printed at its end (``finish()``)."""
    battery = request.path.parent.name  # reliability or security
    return await Findings(battery, request.node.originalname, live_server).begin()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for battery in dict.fromkeys(battery for battery, _ in FIGURES):
        terminalreporter.section(f"{battery} battery figures")
        for line in (line for name, line in FIGURES if name == battery):
            terminalreporter.write_line(line)
