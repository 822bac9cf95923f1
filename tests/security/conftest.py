"""The security batteries' fixtures: one live server per backend per module (see
``tests/live_server.py``), a pooled HTTP client per test, and the figures printed at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.live_server import FIGURES, LIVE_BACKENDS, Findings, LiveServer, serving

BATTERY = "security"
# Nothing to run against (only the in-memory store selected): not collected, not skipped.
collect_ignore_glob = [] if LIVE_BACKENDS else ["test_*.py"]


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
