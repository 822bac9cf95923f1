"""Storage adapters. Each implements ``domain.ports.Storage`` (and the revoked-token list the
storage keeps, ``TokenRevocations``); ``redis.py`` keeps that list in Redis instead.

``open_storage`` picks one by the URL's scheme; it is the only place that names them all.
"""

from __future__ import annotations

from broadsheet.domain.ports import Storage


def open_storage(url: str) -> Storage:
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "memory":
        from broadsheet.storage.memory import MemoryStorage

        return MemoryStorage()
    if scheme in {"sqlite", "postgresql", "postgres", "mysql", "mariadb"}:
        from broadsheet.storage.sql import SqlStorage

        return SqlStorage(url)
    if scheme in {"mongodb", "mongodb+srv"} or url.startswith("mongodb+srv:"):
        from broadsheet.storage.mongo import MongoStorage

        return MongoStorage(url)
    raise ValueError(f"unsupported DATABASE_URL scheme {scheme!r}")
