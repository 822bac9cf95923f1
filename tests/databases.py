"""Real, throwaway databases for the test run: one uniquely named database per backend.

Server addresses come from ``BROADSHEET_TEST_POSTGRESQL_URL`` / ``BROADSHEET_TEST_MARIADB_URL``
(defaults: the local servers) and ``BROADSHEET_TEST_MONGODB_URL`` (default: a SecantusDB
server started for the run). Each run creates its databases and drops them at the end.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pymongo
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from broadsheet.domain.ports import Storage
from broadsheet.storage import open_storage
from broadsheet.storage.mongo import MongoStorage
from broadsheet.storage.mongo import migrations as mongo_migrations
from broadsheet.storage.sql import SqlStorage, tables
from tests.mongo_server import mongo_server, standalone_mongo_server

SERVER_URLS = {
    "postgresql": os.environ.get(
        "BROADSHEET_TEST_POSTGRESQL_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "BROADSHEET_TEST_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/mysql"
    ),
}
# mongodb-standalone: a server started standalone (no replica set, so no transactions), to
# test the write ordering a standalone MongoDB server gets.
KNOWN_BACKENDS = ("memory", "sqlite", "postgresql", "mariadb", "mongodb", "mongodb-standalone")


def selected_backends() -> list[str]:
    names = [n.strip() for n in os.environ.get("BROADSHEET_TEST_BACKENDS", "sqlite").split(",")]
    unknown = set(names) - set(KNOWN_BACKENDS)
    if unknown:
        raise ValueError(f"unknown BROADSHEET_TEST_BACKENDS: {sorted(unknown)}")
    return [n for n in names if n]


def create_database(backend: str, workdir: Path) -> str:
    """A new empty database with the schema applied; returns its URL."""
    name = f"broadsheet_test_{uuid.uuid4().hex[:12]}"
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / (name + '.db')}"
    elif backend.startswith("mongodb"):
        mongo = standalone_mongo_server if backend == "mongodb-standalone" else mongo_server
        address = urlsplit(mongo.url(workdir))
        url = urlunsplit(address._replace(path=f"/{name}"))
    else:
        server = make_url(SERVER_URLS[backend])
        asyncio.run(
            _admin(server.render_as_string(hide_password=False), _create_sql(backend, name))
        )
        url = server.set(database=name).render_as_string(hide_password=False)
    asyncio.run(_migrate(url))
    return url


def drop_database(backend: str, url: str) -> None:
    if backend.startswith("mongodb"):
        parts = urlsplit(url)
        client: pymongo.MongoClient[dict[str, Any]]
        with pymongo.MongoClient(urlunsplit(parts._replace(path="/", query=""))) as client:
            client.drop_database(parts.path.strip("/"))
    if backend in {"postgresql", "mariadb"}:
        server = SERVER_URLS[backend]
        name = make_url(url).database
        drop = f"DROP DATABASE IF EXISTS {name}"
        if backend == "postgresql":
            drop += " WITH (FORCE)"
        asyncio.run(_admin(server, drop))


def _create_sql(backend: str, name: str) -> str:
    if backend == "mariadb":
        return f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin"
    return f"CREATE DATABASE {name}"


async def _admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    storage = open_storage(url)
    try:
        await storage.migrate()
    finally:
        await storage.close()


async def empty(storage: Storage) -> None:
    """Delete every row, keeping the schema: each test starts from nothing."""
    if isinstance(storage, MongoStorage):
        for name in mongo_migrations.VALIDATORS:  # counters and migrations stay
            await storage.database[name].delete_many({})
    if isinstance(storage, SqlStorage):
        async with storage.engine.begin() as connection:
            for table in reversed(tables.metadata.sorted_tables):
                await connection.execute(table.delete())


async def empty_at(url: str) -> None:
    storage = open_storage(url)
    try:
        await empty(storage)
    finally:
        await storage.close()
