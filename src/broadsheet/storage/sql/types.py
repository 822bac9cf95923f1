"""Column types that behave the same on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, String, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, with millisecond precision kept on every dialect.

    PostgreSQL stores ``timestamptz``; SQLite and MariaDB store naive UTC (MariaDB with
    fractional seconds, which its ``DATETIME`` drops by default).
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass aware UTC")
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# MariaDB's TEXT holds 64 KiB; an article body may be longer.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def BinaryString(length: int) -> TypeEngine[str]:
    """A string compared and sorted by code point everywhere, as Python's ``sorted`` does
    (PostgreSQL would otherwise use the database's locale; MariaDB's tables are binary)."""
    return String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")
