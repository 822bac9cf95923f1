"""A real Broadsheet server for the whole-server batteries (``reliability/``, ``security/``).

``broadsheet serve --workers 2`` (the installed CLI of this checkout) runs as its own process
group on a free port, against a fresh database of one backend made by ``tests/databases.py``.
Settings reach it only through the environment, as in production. Its stdout and stderr go to
a log file the tests read. The client is httpx over TCP with a connection pool: every request
crosses a real socket, a real uvicorn worker and a real database connection.

Also here: the traffic tally each battery prints (requests, statuses, 5xx), the scale knob for
long runs (``BROADSHEET_BATTERY_SCALE``), and a direct look at the database for what the API
cannot show (rows that point at nothing, counters that drifted from what they count).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pymongo
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests import databases

BROADSHEET = Path(sys.executable).with_name("broadsheet")
SECRET_KEY = "battery-secret-key-0123456789abcdef-not-for-production"
WORKERS = 2
WORKER_READY = "Application startup complete."  # uvicorn's line, once per worker
LIVE_BACKENDS = [b for b in databases.selected_backends() if b != "memory"]
SQL_BACKENDS = {"sqlite", "postgresql", "mariadb"}

# Counts in the batteries are multiplied by BROADSHEET_BATTERY_SCALE (default 1: CI size).
# SecantusDB, the test stand-in for MongoDB, answers far more slowly than the SQL servers, so
# the MongoDB backends run at MONGO_FACTOR of that, never below each test's floor.
SCALE = float(os.environ.get("BROADSHEET_BATTERY_SCALE", "1"))
MONGO_FACTOR = 0.25

# What the server log must never hold: a stack trace or an error-level line.
LOG_ERRORS = ("Traceback", "ERROR", "Exception", "unhandled error", "CRITICAL")

# Figures each battery reports, printed by the batteries' conftest after the run.
FIGURES: list[tuple[str, str]] = []


async def in_parallel(calls: Iterable[Awaitable[None]], *, at_once: int = 8) -> None:
    """Run independent probes a few at a time: the batteries stay quick on a busy machine."""
    gate = asyncio.Semaphore(at_once)

    async def gated(call: Awaitable[None]) -> None:
        async with gate:
            await call

    await asyncio.gather(*(gated(call) for call in calls))


def unique() -> str:
    """A fresh prefix for usernames, emails and titles: tests share a database, not data."""
    return uuid.uuid4().hex[:8]


def scaled(count: int, backend: str, *, floor: int = 1) -> int:
    factor = SCALE * (MONGO_FACTOR if backend.startswith("mongodb") else 1.0)
    return max(floor, round(count * factor))


def report(battery: str, line: str) -> None:
    FIGURES.append((battery, line))


class LiveServer:
    """One ``broadsheet serve`` process group over one database; restartable on it."""

    def __init__(
        self,
        settings: Mapping[str, str | None],
        *,
        backend: str = "any",
        workdir: Path | None = None,
        name: str = "server",
        workers: int = WORKERS,
    ) -> None:
        """``settings`` are environment variables over the batteries' defaults (a ``None``
        value unsets one); ``DATABASE_URL`` among them names the database."""
        self.backend = backend
        self.settings = dict(settings)
        self.workers = workers
        self.log_path = (workdir or Path(tempfile.mkdtemp())) / f"{name}-{backend}.log"
        self.port = 0
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.cache: dict[str, Any] = {}  # data a battery sets up once per server

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def database_url(self) -> str:
        return str(self.settings["DATABASE_URL"])

    @property
    def pid(self) -> int:
        """The supervisor's process id (its workers are in its process group)."""
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    @property
    def log(self) -> str:
        """Everything the server printed, over every start."""
        return self.log_since()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")}
        env.update(
            BROADSHEET_SECRET_KEY=SECRET_KEY,
            BROADSHEET_AUTO_MIGRATE="false",  # tests/databases.py migrated it already
            # Hundreds of sign-ups from one address: limits on only where a battery tests them.
            BROADSHEET_RATE_LIMITS="off",
            # Still Argon2id, at the cheapest cost: the batteries register hundreds of users.
            BROADSHEET_ARGON2_TIME_COST="1",
            BROADSHEET_ARGON2_MEMORY_KIB="1024",
            PYTHONUNBUFFERED="1",
        )
        for name, value in self.settings.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def start(self, timeout: float = 60) -> None:
        """Start on a new free port and return once ``/healthz`` answers 200."""
        assert self._process is None, "already running"
        self.port = _free_port()
        self.starts += 1
        self._log = self.log_path.open("ab")
        self._log.write(f"\n=== start {self.starts} on port {self.port} ===\n".encode())
        self._log.flush()
        mark = self.log_mark()
        command = [str(BROADSHEET), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._process = subprocess.Popen(
            [*command, "--workers", str(self.workers)],
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() and kill() reach the workers
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._closed()
                raise RuntimeError(f"broadsheet serve exited with {code}:\n{self.log_tail()}")
            # Healthy, and every worker has started (else the first requests meet one worker).
            if self.log_since(mark).count(WORKER_READY) >= self.workers:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(
            f"broadsheet serve did not get healthy in {timeout}s:\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM to the whole group (uvicorn shuts down gracefully), SIGKILL if it lingers."""
        if self._process is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self._process.wait()
        self._reap_group()
        self._closed()

    def kill(self) -> None:
        """``kill -9`` of the supervisor and every worker at once: a crash, not a shutdown."""
        if self._process is None:
            return
        self._signal(signal.SIGKILL)
        self._process.wait()
        self._reap_group()
        self._closed()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _signal(self, number: signal.Signals) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, number)

    def _reap_group(self) -> None:
        """Workers may outlive the supervisor by a moment; the group is gone when this returns."""
        assert self._process is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self._process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)

    def _closed(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    # --- the log -----------------------------------------------------------------------

    def log_mark(self) -> int:
        """Where the log ends now: ``log_since(mark)`` reads what a test added."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, mark: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(mark)
            return log.read().decode("utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_since().splitlines()[-lines:])

    def log_errors(self, mark: int = 0) -> list[str]:
        return [
            line
            for line in self.log_since(mark).splitlines()
            if any(word in line for word in LOG_ERRORS)
        ]

    # --- clients -----------------------------------------------------------------------

    def client(self, *, connections: int = 200, timeout: float = 120) -> httpx.AsyncClient:
        """An HTTP client for the API (paths relative to ``/api``) with a connection pool."""
        return httpx.AsyncClient(
            base_url=f"{self.url}/api",
            # Idle connections go well before uvicorn's 5 s keep-alive closes them: reusing one
            # as the server drops it would be a lost request that is nobody's bug.
            limits=httpx.Limits(
                max_connections=connections,
                max_keepalive_connections=connections,
                keepalive_expiry=2,
            ),
            timeout=httpx.Timeout(timeout, pool=timeout),
        )


@contextlib.contextmanager
def serving(
    backend: str, workdir: Path, *, name: str = "server", settings: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """A fresh database of ``backend`` and a started server over it; both gone afterwards.
    ``settings`` are environment variables on top of the batteries' own."""
    url = databases.create_database(backend, workdir)
    server = LiveServer(
        {"DATABASE_URL": url, **(settings or {})}, backend=backend, workdir=workdir, name=name
    )
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            databases.drop_database(backend, url)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- traffic figures -----------------------------------------------------------------------


@dataclass
class Tally:
    """Every response a battery got, by status, and every request that got none."""

    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def count(self, response: httpx.Response) -> httpx.Response:
        self.statuses[response.status_code] += 1
        return response

    async def send(
        self, client: httpx.AsyncClient, method: str, url: str, **options: Any
    ) -> httpx.Response:
        try:
            response = await client.request(method, url, **options)
        except httpx.TransportError as error:
            self.transport_errors[type(error).__name__] += 1
            raise
        return self.count(response)

    @property
    def requests(self) -> int:
        return self.statuses.total() + self.transport_errors.total()

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    async def race(
        self, *calls: Awaitable[httpx.Response], at_once: int | None = None
    ) -> list[httpx.Response | None]:
        """All at once (or ``at_once`` at a time: checks need no stampede); a request that got
        no response (counted by ``send``) is None."""
        if at_once is not None:
            gate = asyncio.Semaphore(at_once)

            async def gated(call: Awaitable[httpx.Response]) -> httpx.Response:
                async with gate:
                    return await call

            calls = tuple(gated(call) for call in calls)
        results = await asyncio.gather(*calls, return_exceptions=True)
        responses: list[httpx.Response | None] = []
        for result in results:
            if isinstance(result, httpx.TransportError):
                responses.append(None)
            elif isinstance(result, BaseException):
                raise result
            else:
                responses.append(result)
        return responses

    def summary(self) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        failed = f" transport errors {dict(self.transport_errors)}" if self.transport_errors else ""
        return (
            f"{self.requests} requests in {time.monotonic() - self.started:.1f}s, "
            f"statuses {{{statuses}}}, 5xx {self.server_errors}{failed}"
        )


@dataclass
class Findings:
    """What a test saw go wrong, with its figures; asserted once at the end."""

    battery: str
    test: str
    server: LiveServer
    tally: Tally = field(default_factory=Tally)
    problems: list[str] = field(default_factory=list)
    drift: int = 0
    lost: int = 0
    log_mark: int = 0
    integrity_before: dict[str, int] = field(default_factory=dict)

    async def begin(self) -> Findings:
        """Where the log and the database stand before the test: it answers only for itself."""
        self.log_mark = self.server.log_mark()
        self.integrity_before = await self._integrity()
        return self

    async def _integrity(self) -> dict[str, int]:
        return await integrity_problems(self.server.backend, self.server.database_url)

    def problem(self, message: str) -> None:
        self.problems.append(message)

    async def send(
        self, client: httpx.AsyncClient, method: str, url: str, **options: Any
    ) -> httpx.Response | None:
        """A counted request; None if the server answered nothing (``expect`` says so)."""
        try:
            return await self.tally.send(client, method, url, **options)
        except httpx.TransportError:
            return None

    def expect(
        self, response: httpx.Response | None, statuses: set[int], what: str
    ) -> httpx.Response | None:
        """The response if its status is one of ``statuses``; otherwise a problem and None."""
        if response is None:
            self.problem(f"{what}: no response (connection failed)")
            return None
        if response.status_code not in statuses:
            self.problem(f"{what}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def expect_error(
        self,
        response: httpx.Response | None,
        statuses: set[int],
        what: str,
        *,
        body: dict[str, Any] | None = None,
    ) -> None:
        """An error response with one of ``statuses`` in the API's error shape, revealing
        nothing of the machinery; exactly ``body`` when given."""
        answered = self.expect(response, statuses, what)
        if answered is None:
            return
        if (wrong := error_shape_problem(answered)) is not None:
            self.problem(f"{what}: {wrong}")
        elif body is not None and answered.json() != body:
            self.problem(f"{what}: {answered.status_code} {answered.text[:200]}, expected {body}")

    async def finish(self, *, extra: str = "") -> None:
        for kind, count in (await self._integrity()).items():
            if (new := count - self.integrity_before.get(kind, 0)) > 0:
                self.problem(f"database: {new} more {kind}")
        for line in self.server.log_errors(self.log_mark)[:10]:
            self.problem(f"server log: {line}")
        if self.tally.server_errors:
            self.problem(f"{self.tally.server_errors} responses were 5xx")
        losses = (
            f", drift {self.drift}, writes lost {self.lost}"
            if self.battery == "reliability"
            else ""
        )
        figures = (
            f"{self.test}[{self.server.backend}]: {self.tally.summary()}{losses}{extra}, "
            f"problems {len(self.problems)}"
        )
        report(self.battery, figures)
        shown = "\n".join(self.problems[:25])
        more = len(self.problems) - 25
        assert not self.problems, f"{figures}\n{shown}" + (f"\n... {more} more" if more > 0 else "")


# Nothing an error body may reveal: stack traces, SQL, driver or library names, hashes.
LEAKS = (
    "Traceback", "File \"", "sqlalchemy", "SELECT ", "INSERT ", "UPDATE ", "DELETE FROM",
    "asyncpg", "asyncmy", "aiosqlite", "sqlite3", "pymongo", "psycopg", "IntegrityError",
    "OperationalError", "DataError", "ProgrammingError", "syntax error", "MariaDB", "MySQL",
    "PostgreSQL", "$argon2", "pydantic",
)  # fmt: skip


def error_shape_problem(response: httpx.Response) -> str | None:
    """What is wrong with an error response's shape, or None: JSON, exactly
    ``{"errors": {"<key>": ["<message>", ...]}}``, and no leak."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return f"{response.status_code} not JSON: {response.text[:200]!r}"
    for word in LEAKS:
        if word in response.text:
            return f"{response.status_code} reveals {word!r}: {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} invalid JSON: {response.text[:200]!r}"
    errors = body.get("errors") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or set(body) != {"errors"}
        or not isinstance(errors, dict)
        or not errors
        or not all(
            isinstance(key, str)
            and isinstance(messages, list)
            and messages
            and all(isinstance(m, str) and m for m in messages)
            for key, messages in errors.items()
        )
    ):
        return f"{response.status_code} not in the error shape: {response.text[:200]}"
    return None


# --- what only the database can show -----------------------------------------------------


async def delete_user(backend: str, url: str, username: str) -> None:
    """Remove an account behind the API's back (Broadsheet has no endpoint for it), as an
    operator would: what the user wrote goes with them."""
    if backend.startswith("mongodb"):
        address = url.partition("?")[0]
        base, _, name = address.rpartition("/")
        client: pymongo.MongoClient[dict[str, Any]]
        with pymongo.MongoClient(base + "/") as client:
            client[name].users.delete_one({"username": username})
        return
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            if backend == "sqlite":
                await connection.execute(text("PRAGMA foreign_keys = ON"))
            await connection.execute(
                text("DELETE FROM user_account WHERE username = :name"), {"name": username}
            )
    finally:
        await engine.dispose()


_SQL_ORPHANS = {
    "comments without their article": (
        "SELECT count(*) FROM comment WHERE article_id NOT IN (SELECT id FROM article)"
    ),
    "favorites without their article": (
        "SELECT count(*) FROM favorite WHERE article_id NOT IN (SELECT id FROM article)"
    ),
    "tags without their article": (
        "SELECT count(*) FROM article_tag WHERE article_id NOT IN (SELECT id FROM article)"
    ),
    "follows without their users": (
        "SELECT count(*) FROM follow WHERE follower_id NOT IN (SELECT id FROM user_account)"
        " OR followee_id NOT IN (SELECT id FROM user_account)"
    ),
}


async def integrity_problems(backend: str, url: str) -> dict[str, int]:
    """Rows that point at nothing and counters that disagree with what they count, by kind;
    only the kinds with problems. The API cannot show these (an orphan comment is unreachable)
    but they are lost or leaked data all the same."""
    if backend.startswith("mongodb"):
        return _mongo_problems(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            found = {
                kind: int((await connection.execute(text(query))).scalar_one())
                for kind, query in _SQL_ORPHANS.items()
            }
    finally:
        await engine.dispose()
    return {kind: n for kind, n in found.items() if n}


def _mongo_problems(url: str) -> dict[str, int]:
    address = url.partition("?")[0]
    name = address.rsplit("/", 1)[1]
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(address.rsplit("/", 1)[0] + "/") as client:
        db: pymongo.database.Database[dict[str, Any]] = client[name]
        stored = list(db.articles.find({}, {"body": 0}))
        articles = {doc["_id"]: doc["favorites_count"] for doc in stored}
        users = {doc["_id"]: doc for doc in db.users.find({}, {"password_hash": 0})}
        favorites = Counter(doc["article_id"] for doc in db.favorites.find())
        fans = Counter(
            doc["user_id"] for doc in db.favorites.find() if doc["article_id"] in articles
        )
        written = Counter(doc["author_id"] for doc in stored)
        tagged = Counter(tag for doc in stored for tag in doc["tags"])
        tags = {doc["_id"]: doc["articles_count"] for doc in db.tags.find()}
        total = (db.totals.find_one({"_id": "articles"}) or {}).get("count", 0)
        found = {
            "comments without their article": sum(
                1 for doc in db.comments.find() if doc["article_id"] not in articles
            ),
            "favorites without their article": sum(
                n for article_id, n in favorites.items() if article_id not in articles
            ),
            "follows without their users": sum(
                1
                for doc in db.follows.find()
                if doc["follower_id"] not in users or doc["followee_id"] not in users
            ),
            "articles whose favoritesCount is not their favorites": sum(
                1 for article_id, count in articles.items() if count != favorites[article_id]
            ),
            # The counters behind each list's total (storage/mongo/counters.py).
            "users whose articles_count is not their articles": sum(
                1 for n, user in users.items() if user.get("articles_count") != written[n]
            ),
            "users whose favorites_count is not their favorites": sum(
                1 for n, user in users.items() if user.get("favorites_count") != fans[n]
            ),
            "tags whose articles_count is not their articles": sum(
                1 for tag in tags.keys() | tagged.keys() if tags.get(tag, 0) != tagged[tag]
            ),
            "articles total that is not the articles": int(total != len(stored)),
        }
    return {kind: n for kind, n in found.items() if n}
