"""Storage adapters. Each implements ``domain.ports.Storage`` (and the revoked-token list the
storage keeps, ``TokenRevocations``); ``redis.py`` keeps that list in Redis instead.

``open_storage`` picks one by the URL's scheme; it is the only place that names them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from broadsheet.domain.ports import Storage


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """How long an adapter waits for its database (seconds) before it gives up with
    ``StoreUnavailable``: an outage must be a quick answer, never a hung request."""

    connect_timeout: float = 5
    statement_timeout: float = 15
    sqlite_busy_timeout: float = 5  # SQLite's wait for the write lock, per attempt
    pool_timeout: float = 5  # SQL: waiting for a free pooled connection
    pool_size: int = 12  # SQL: connections kept open (per process)
    pool_overflow: int = 4  # SQL: opened beyond those for a burst, closed after
    server_selection_timeout: float = 5  # MongoDB
    # Add each statement or command, and its time, to the request's tally (Server-Timing).
    # Off, no hook is registered: it costs nothing.
    tally_queries: bool = False


class InvalidDatabaseUrl(ValueError):
    """``DATABASE_URL`` cannot be parsed or names no backend Broadsheet has."""


def open_storage(url: str, options: ConnectionOptions | None = None) -> Storage:
    """The adapter for ``url``. Raises ``InvalidDatabaseUrl``; connects lazily."""
    options = options or ConnectionOptions()
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "memory":
        from broadsheet.storage.memory import MemoryStorage

        return MemoryStorage()
    if scheme in {"sqlite", "postgresql", "postgres", "mysql", "mariadb"}:
        from broadsheet.storage.sql import SqlStorage

        return SqlStorage(url, options)
    if scheme in {"mongodb", "mongodb+srv"} or url.startswith("mongodb+srv:"):
        from broadsheet.storage.mongo import MongoStorage

        return MongoStorage(url, options)
    raise InvalidDatabaseUrl(
        f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite, postgresql, mysql, mongodb "
        "or memory"
    )
