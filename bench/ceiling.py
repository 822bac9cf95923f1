"""The ceiling: the fastest honest server for the same reads, to measure Broadsheet against.

A bare ASGI app (no framework) served by uvicorn with the loop and HTTP options Broadsheet
uses, over the same database. Each endpoint is one hand-written statement (``statements.py``)
through the raw driver (asyncpg with a small pool per worker; aiosqlite with a few
connections per worker; asyncmy for MariaDB), answered in the RealWorld shape:

- ``GET /api/articles`` the newest page (``?limit=&offset=``), ``GET /api/articles/<slug>``,
  ``GET /api/tags``;
- ``POST /api/articles/<slug>/comments`` one INSERT ... RETURNING (the write ceiling; no
  authentication: the first user writes);
- ``GET /static`` a constant JSON body: HTTP and the server alone.

Run by the benchmark as ``python -m bench.ceiling --port P --workers N`` with
``BENCH_DATABASE_URL`` set (a URL as Broadsheet's ``DATABASE_URL`` takes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosqlite
import asyncmy
import asyncpg
import uvicorn

from bench import statements
from bench.statements import Dialect, Statements

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Row = Sequence[Any]

POOL_SIZE = 8  # connections per worker (PostgreSQL, MariaDB)
SQLITE_CONNECTIONS = 4  # per worker: each aiosqlite connection is a thread
# JSON as Starlette encodes it: compact, UTF-8.
encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
STATIC_BODY = encode_json(
    {"tags": ["databases", "python", "sql", "postgres", "sqlite", "testing", "design", "web"]}
).encode()


class Driver(Protocol):
    dialect: Dialect

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Row]: ...

    async def close(self) -> None: ...


class PostgresDriver:
    dialect: Dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresDriver:
        return cls(await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE))

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Row]:
        rows: Sequence[Row] = await self._pool.fetch(sql, *params)
        return rows

    async def close(self) -> None:
        await self._pool.close()


class SqliteDriver:
    """A few autocommit connections, with the pragmas Broadsheet sets on its own."""

    dialect: Dialect = "sqlite"

    def __init__(self, connections: asyncio.Queue[aiosqlite.Connection]) -> None:
        self._connections = connections

    @classmethod
    async def open(cls, path: str) -> SqliteDriver:
        connections: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for _ in range(SQLITE_CONNECTIONS):
            connection = await aiosqlite.connect(path, isolation_level=None)
            for pragma in (
                "PRAGMA foreign_keys = ON",
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = NORMAL",
                "PRAGMA busy_timeout = 5000",
            ):
                await connection.execute(pragma)
            connections.put_nowait(connection)
        return cls(connections)

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Row]:
        connection = await self._connections.get()
        try:
            return list(await connection.execute_fetchall(sql, tuple(params)))
        finally:
            self._connections.put_nowait(connection)

    async def close(self) -> None:
        while not self._connections.empty():
            await self._connections.get_nowait().close()


class MariaDriver:
    dialect: Dialect = "mariadb"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> MariaDriver:
        address = urlsplit(url)
        pool = await asyncmy.create_pool(
            host=address.hostname or "127.0.0.1",
            port=address.port or 3306,
            user=unquote(address.username or "root"),
            password=unquote(address.password or ""),
            db=address.path.lstrip("/"),
            charset="utf8mb4",
            autocommit=True,
            minsize=POOL_SIZE,
            maxsize=POOL_SIZE,
        )
        return cls(pool)

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Row]:
        async with self._pool.acquire() as connection, connection.cursor() as cursor:
            await cursor.execute(sql, tuple(params))
            rows: Sequence[Row] = await cursor.fetchall()
            return rows

    async def close(self) -> None:
        self._pool.close()
        await self._pool.wait_closed()


async def open_driver(url: str) -> Driver:
    scheme = url.partition(":")[0].partition("+")[0]
    if scheme == "sqlite":
        return await SqliteDriver.open(url.partition(":///")[2])
    if scheme in {"postgresql", "postgres"}:
        return await PostgresDriver.open(url.replace("postgresql+asyncpg://", "postgresql://"))
    if scheme in {"mysql", "mariadb"}:
        return await MariaDriver.open(url)
    raise ValueError(f"the ceiling has no driver for {scheme!r}")


# --- values in the RealWorld shape -------------------------------------------------------


def timestamp(value: Any) -> str:
    """ISO 8601 in UTC with milliseconds, as Broadsheet writes them."""
    if isinstance(value, str):  # SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", naive UTC
        return f"{value[:10]}T{value[11:23]}Z"
    moment: datetime = value if value.tzinfo is None else value.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def tag_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # SQLite and MariaDB aggregate into JSON text
        tags: list[str] = json.loads(value)
        return tags
    return list(value)


def stored_now(dialect: Dialect) -> Any:
    """Now, to the millisecond, as each dialect's column stores it."""
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    if dialect == "postgresql":
        return now
    if dialect == "sqlite":
        return f"{now:%Y-%m-%d %H:%M:%S.%f}"
    return now.replace(tzinfo=None)


def _profile(username: Any, bio: Any, image: Any) -> dict[str, Any]:
    return {"username": username, "bio": bio, "image": image, "following": False}


def _summary(row: Row) -> dict[str, Any]:
    # Columns: slug, title, description, created_at, updated_at, favorites_count, tags,
    # username, bio, image (then total or body).
    return {
        "slug": row[0],
        "title": row[1],
        "description": row[2],
        "tagList": tag_list(row[6]),
        "createdAt": timestamp(row[3]),
        "updatedAt": timestamp(row[4]),
        "favorited": False,
        "favoritesCount": int(row[5]),
        "author": _profile(row[7], row[8], row[9]),
    }


# --- the app -----------------------------------------------------------------------------


class Ceiling:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._driver: Driver | None = None
        self._statements: Statements | None = None
        self._author: Row = ()
        self.schema: statements.Schema = "plain"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._start()
                except Exception as error:
                    await send({"type": "lifespan.startup.failed", "message": repr(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._driver is not None:
                    await self._driver.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self) -> None:
        driver = await open_driver(self._database_url)
        [(has_counters, *_)] = await driver.fetch(statements.HAS_COUNTERS[driver.dialect], ())
        self.schema = "counters" if int(has_counters) else "plain"
        self._statements = statements.statements(driver.dialect, self.schema)
        [self._author] = await driver.fetch(statements.AUTHOR, ())
        self._driver = driver
        sys.stderr.write(f"ceiling schema: {self.schema}\n")  # read by the benchmark

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        started = time.perf_counter()
        if path == "/static":
            await _respond(send, 200, STATIC_BODY)
            return
        assert self._driver is not None
        assert self._statements is not None
        driver, sql = self._driver, self._statements
        parts = path.strip("/").split("/")
        answer: dict[str, Any] = {"errors": {"path": ["not found"]}}
        status, database = 404, 0.0
        if method == "GET" and path == "/api/articles":
            query = parse_qs(scope["query_string"].decode())
            limit = int(query.get("limit", ["20"])[0])
            offset = int(query.get("offset", ["0"])[0])
            database, rows = await _timed(driver.fetch(sql.list_page, (limit, offset)))
            total = int(rows[0][10]) if rows else 0
            status, answer = 200, {"articles": [_summary(r) for r in rows], "articlesCount": total}
        elif method == "GET" and path == "/api/tags":
            database, rows = await _timed(driver.fetch(sql.tags, ()))
            status, answer = 200, {"tags": [row[0] for row in rows]}
        elif method == "GET" and len(parts) == 3 and parts[:2] == ["api", "articles"]:
            database, rows = await _timed(driver.fetch(sql.article, (unquote(parts[2]),)))
            if rows:
                status, answer = 200, {"article": {**_summary(rows[0]), "body": rows[0][10]}}
        elif method == "POST" and len(parts) == 4 and parts[3] == "comments":
            body = json.loads(await _read_body(receive))["comment"]["body"]
            author_id, username, bio, image = self._author
            now = stored_now(driver.dialect)
            values = (unquote(parts[2]), author_id, body, now)
            database, rows = await _timed(
                driver.fetch(sql.write, [values[i] for i in sql.write_order])
            )
            shown = timestamp(now)
            status = 201
            answer = {
                "comment": {
                    "id": int(rows[0][0]),
                    "createdAt": shown,
                    "updatedAt": shown,
                    "body": body,
                    "author": _profile(username, bio, image),
                }
            }
        application = (time.perf_counter() - started) * 1000
        timing = f'db;dur={database:.3f};desc="1 statements", app;dur={application:.3f}'
        await _respond(send, status, encode_json(answer).encode(), timing)


async def _timed(query: Awaitable[Sequence[Row]]) -> tuple[float, Sequence[Row]]:
    started = time.perf_counter()
    rows = await query
    return (time.perf_counter() - started) * 1000, rows


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, timing: str | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if timing is not None:
        headers.append((b"server-timing", timing.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app() -> Ceiling:
    return Ceiling(os.environ["BENCH_DATABASE_URL"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The benchmark's ceiling server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="auto", help="uvicorn's loop, as Broadsheet's")
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP protocol, as Broadsheet's")
    options = parser.parse_args(argv)
    uvicorn.run(
        "bench.ceiling:create_app",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        loop=options.loop,
        http=options.http,
        access_log=False,  # a minimal server logs nothing per request
        server_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
