"""A fresh database per run: created empty, named uniquely, dropped afterwards.

PostgreSQL and MariaDB databases are made on the servers at ``BENCH_POSTGRESQL_URL``
(default ``postgresql://postgres@127.0.0.1:5432``) and ``BENCH_MARIADB_URL`` (default
``mysql://root@127.0.0.1:3306``); SQLite's is a file in the run's temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncmy
import asyncpg

BACKENDS = ("sqlite", "postgresql", "mariadb")
POSTGRESQL_SERVER = os.environ.get("BENCH_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432")
MARIADB_SERVER = os.environ.get("BENCH_MARIADB_URL", "mysql://root@127.0.0.1:3306")


@dataclass(frozen=True, slots=True)
class Database:
    backend: str
    name: str
    url: str  # as DATABASE_URL takes it

    def drop(self) -> None:
        if self.backend == "postgresql":
            asyncio.run(_postgresql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        elif self.backend == "mariadb":
            asyncio.run(_mariadb(f"DROP DATABASE IF EXISTS `{self.name}`"))
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.name}{suffix}").unlink(missing_ok=True)


def create(backend: str, workdir: Path) -> Database:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        path = workdir / f"{name}.db"
        return Database(backend, str(path), f"sqlite:///{path}")
    if backend == "postgresql":
        asyncio.run(_postgresql(f'CREATE DATABASE "{name}"'))
        return Database(backend, name, f"{POSTGRESQL_SERVER.rstrip('/')}/{name}")
    if backend == "mariadb":
        asyncio.run(
            _mariadb(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin")
        )
        return Database(backend, name, f"{MARIADB_SERVER.rstrip('/')}/{name}")
    raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")


def server_version(backend: str) -> str:
    if backend == "postgresql":
        return str(asyncio.run(_postgresql("SHOW server_version")))
    if backend == "mariadb":
        return str(asyncio.run(_mariadb("SELECT VERSION()")))
    return sqlite3.sqlite_version  # the library aiosqlite uses in this interpreter


async def _postgresql(statement: str) -> Any:
    connection = await asyncpg.connect(f"{POSTGRESQL_SERVER.rstrip('/')}/postgres")
    try:
        return await connection.fetchval(statement)
    finally:
        await connection.close()


async def _mariadb(statement: str) -> Any:
    address = urlsplit(MARIADB_SERVER)
    connection = await asyncmy.connect(
        host=address.hostname or "127.0.0.1",
        port=address.port or 3306,
        user=unquote(address.username or "root"),
        password=unquote(address.password or ""),
        autocommit=True,
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(statement)
            row = await cursor.fetchone()
            return None if row is None else row[0]
    finally:
        connection.close()
