"""Outage battery: the database refuses, drops or stalls under a stream of requests.

A fault-injecting TCP proxy (``fault_proxy.py``) sits between a real ``broadsheet serve``
and the database server, which itself is never touched. While the proxy is cut or stalled,
every answer must be a quick 503 in the API's error shape with ``Retry-After``, ``/healthz``
must say 503 and why, and once the proxy heals the same server must serve again without a
restart. SQLite has no server to lose; its outage is a write lock held past the busy
timeout, which must be retried and then be a 503, not a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy.engine import make_url

from broadsheet.storage.sql import CLIENT_MARGIN
from tests import databases
from tests.conftest import BACKENDS
from tests.live_server import LiveServer, report
from tests.reliability.fault_proxy import FaultProxy, Mode

SERVER_BACKENDS = [b for b in BACKENDS if b in {"postgresql", "mariadb", "mongodb"}]
TIMEOUT = 1.0  # every database timeout of the server under test, seconds
# The slowest honest answer: a pooled connection's liveness check times out (statement
# timeout, plus the client's margin over the server's), then a new connection does
# (connect timeout). Twice that, for a busy CI machine.
LATENCY_BOUND = 2 * (TIMEOUT + CLIENT_MARGIN + TIMEOUT)
HEALTH_BOUND = 2 * TIMEOUT + 1
STREAM_SECONDS = 3.0
CLIENTS = 3
RECOVERY_BOUND = 15.0
# RealWorld's reads and writes, and reads beyond it: a full-text search, an aggregation, a
# two-hop graph query.
KINDS = ("list", "me", "write", "search", "trending", "suggestions")


@dataclass(frozen=True, slots=True)
class Answer:
    what: str
    status: int
    seconds: float
    body: object
    retry_after: str | None


@pytest.fixture(params=SERVER_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _through(url: str, port: int) -> str:
    """``url`` with the proxy's port in place of the server's."""
    if url.startswith("mongodb"):
        parts = urlsplit(url)
        # directConnection: the driver would otherwise follow the replica set's own
        # address for its members and go around the proxy.
        query = [*parse_qsl(parts.query), ("directConnection", "true")]
        return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}", query=urlencode(query)))
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _server_address(url: str) -> tuple[str, int]:
    if url.startswith("mongodb"):
        parts = urlsplit(url)
        return parts.hostname or "127.0.0.1", parts.port or 27017
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 0


def _ask(http: httpx.Client, what: str, token: str, serial: int) -> Answer:
    headers = {"Authorization": f"Token {token}"}
    started = time.monotonic()
    if what == "list":
        response = http.get("/api/articles")
    elif what == "me":
        response = http.get("/api/user", headers=headers)
    elif what == "search":
        response = http.get("/api/search", params={"q": "outage"})
    elif what == "trending":
        response = http.get("/api/analytics/trending")
    elif what == "suggestions":
        response = http.get("/api/user/suggestions", headers=headers)
    else:
        article = {"title": f"During an outage {serial}", "description": "d", "body": "b"}
        response = http.post("/api/articles", json={"article": article}, headers=headers)
    elapsed = time.monotonic() - started
    try:
        body: object = response.json()
    except ValueError:
        body = response.text
    return Answer(what, response.status_code, elapsed, body, response.headers.get("retry-after"))


def _stream(url: str, token: str, seconds: float) -> list[Answer]:
    """``CLIENTS`` clients asking in turn (``KINDS``), each at least once, until ``seconds``
    have passed."""
    serials = itertools.count()
    deadline = time.monotonic() + seconds

    def client(offset: int) -> list[Answer]:
        answers = []
        kinds = itertools.islice(itertools.cycle(KINDS), offset, None)
        with httpx.Client(base_url=url, timeout=60) as http:
            # At least one each, however slowly a loaded machine starts the threads.
            answers.append(_ask(http, next(kinds), token, next(serials)))
            while time.monotonic() < deadline:
                answers.append(_ask(http, next(kinds), token, next(serials)))
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [a for answers in pool.map(client, range(CLIENTS)) for a in answers]


def _recover(url: str) -> float:
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.monotonic() - started < RECOVERY_BOUND:
            if http.get("/api/articles").status_code == 200:
                return time.monotonic() - started
            time.sleep(0.05)
    raise AssertionError(f"not serving again {RECOVERY_BOUND}s after the database came back")


def _health(url: str) -> tuple[int, object, float]:
    started = time.monotonic()
    response = httpx.get(url + "/healthz", timeout=60)
    return response.status_code, response.json(), time.monotonic() - started


@contextlib.contextmanager
def _served_through_proxy(url: str) -> Iterator[tuple[FaultProxy, LiveServer]]:
    with FaultProxy(*_server_address(url)) as proxy:
        env: dict[str, str | None] = {
            "DATABASE_URL": _through(url, proxy.port),
            "BROADSHEET_SECRET_KEY": "outage-battery-secret-0123456789abcdef",
            "BROADSHEET_DB_CONNECT_TIMEOUT_SECONDS": str(TIMEOUT),
            "BROADSHEET_DB_STATEMENT_TIMEOUT_SECONDS": str(TIMEOUT),
            "BROADSHEET_DB_POOL_TIMEOUT_SECONDS": str(TIMEOUT),
            "BROADSHEET_MONGO_SERVER_SELECTION_TIMEOUT_SECONDS": str(TIMEOUT),
            "BROADSHEET_HEALTH_TIMEOUT_SECONDS": str(TIMEOUT),
        }
        with LiveServer(env, workers=1) as server:
            yield proxy, server


@pytest.mark.parametrize("mode", ["refuse", "drop", "stall"])
def test_an_outage_is_a_quick_503_and_service_comes_back_by_itself(
    backend: str, mode: Mode, database_urls: dict[str, str]
) -> None:
    url = database_urls[backend]
    asyncio.run(databases.empty_at(url))
    with _served_through_proxy(url) as (proxy, server):
        signed_up = httpx.post(
            server.url + "/api/users",
            json={
                "user": {
                    "username": f"out{mode}",
                    "email": f"{mode}@x.io",
                    "password": "pw-12345678",
                }
            },
            timeout=30,
        )
        assert signed_up.status_code == 201, signed_up.text
        token = signed_up.json()["user"]["token"]
        assert all(a.status < 300 for a in _stream(server.url, token, 0.5))

        proxy.set_mode(mode)
        during = _stream(server.url, token, STREAM_SECONDS)
        health = _health(server.url)
        proxy.set_mode("forward")
        recovered_in = _recover(server.url)
        after = _stream(server.url, token, 0.5)

    unavailable = [a for a in during if a.status == 503]
    other_5xx = [a for a in during if a.status >= 500 and a.status != 503]
    slowest = max(a.seconds for a in during)
    report(
        "reliability",
        f"outage {backend} {mode}: {len(during)} requests, {len(unavailable)} 503s, "
        f"{len(other_5xx)} other 5xx, max latency {slowest:.2f}s (bound {LATENCY_BOUND:g}s), "
        f"/healthz {health[0]} in {health[2]:.2f}s, recovered in {recovered_in:.2f}s, "
        f"{sum(a.status < 300 for a in after)}/{len(after)} OK after",
    )
    assert [a for a in during if a.status != 503] == [], server.log[-3000:]
    for answer in during:
        assert answer.body == {"errors": {"database": ["is unavailable; try again shortly"]}}
        assert int(answer.retry_after or "0") > 0
    assert slowest <= LATENCY_BOUND
    status, body, seconds = health
    assert status == 503
    assert isinstance(body, dict)
    assert body["errors"]["database"][0].startswith("unreachable")
    assert seconds <= HEALTH_BOUND
    assert after
    assert all(a.status < 300 for a in after), after
