"""The reliability batteries' fixtures: one live server per backend per module (see
``tests/live_server.py``), a pooled HTTP client per test, and the figures each battery
reported (``live_server.report`` or ``Findings``) printed at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.live_server import (
    FIGURES,
    LIVE_BACKENDS,
    SQL_BACKENDS,
    Findings,
    LiveServer,
    serving,
)

BATTERY = "reliability"
# Each battery is collected only when a backend it runs on is selected (never skipped).
collect_ignore = [
    *(["test_outage.py"] if not {"postgresql", "mariadb", "mongodb"} & set(BACKENDS) else []),
    *(["test_sqlite_lock.py"] if "sqlite" not in BACKENDS else []),
    *(["test_signing_key.py"] if not set(BACKENDS) - {"memory", "mongodb-standalone"} else []),
    *(["test_crash.py"] if not SQL_BACKENDS & set(LIVE_BACKENDS) else []),
    *(["test_concurrency.py"] if not LIVE_BACKENDS else []),
]


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = [line for battery, line in FIGURES if battery == BATTERY]
    if lines:
        terminalreporter.section(f"{BATTERY} battery figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
async def findings(request: pytest.FixtureRequest, live_server: LiveServer) -> Findings:
    """Problems and figures of one test, checked and printed at its end (``finish()``)."""
    return await Findings(BATTERY, request.node.originalname, live_server).begin()
