"""The few places where SQLite, PostgreSQL and MariaDB differ, kept in one module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import CursorResult, Insert, Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.domain.errors import AlreadyExists, NotFound, TransientConflict
from broadsheet.storage.sql.tables import UNIQUE_FIELDS


def insert_if_absent(
    connection: AsyncConnection, table: Table, values: Mapping[str, Any]
) -> Insert:
    """An INSERT that does nothing when the primary key exists: safe under concurrency,
    since the database (not a prior SELECT) decides."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(table).values(values).on_conflict_do_nothing()
    # MariaDB/MySQL: a no-op update, not INSERT IGNORE, which would also hide FK violations.
    first_key = table.primary_key.columns.values()[0]
    statement = mysql.insert(table).values(values)
    return statement.on_duplicate_key_update({first_key.name: statement.inserted[first_key.name]})


_MYSQL_DUPLICATE_KEY = 1062


async def inserted_unless_present(
    connection: AsyncConnection, table: Table, *, values: Mapping[str, Any]
) -> bool:
    """INSERT a row unless its primary key is taken, and say whether it was inserted. The
    database decides, so the answer holds under concurrency. MariaDB reports a no-op
    ``ON DUPLICATE KEY UPDATE`` as one affected row (SQLAlchemy asks it for found rows), so
    there the INSERT is plain, and a duplicate key, which undoes only that statement, means
    "present"."""
    if connection.dialect.name != "mysql":
        result = await connection.execute(insert_if_absent(connection, table, values))
        return result.rowcount == 1
    try:
        await connection.execute(mysql.insert(table).values(values))
    except IntegrityError as error:
        if _mysql_code(error) == _MYSQL_DUPLICATE_KEY and duplicate_field(error) is None:
            return False
        raise
    return True


async def add_to_counters(
    connection: AsyncConnection,
    table: Table,
    keys: Sequence[str],
    counter: str,
) -> None:
    """Add one to ``counter`` in the rows whose primary key is in ``keys``, creating missing
    rows at 1. Keys go in sorted order, so two writers lock shared rows in the same order
    and cannot deadlock each other."""
    if not keys:
        return
    key = table.primary_key.columns.values()[0].name
    rows = [{key: value, counter: 1} for value in sorted(keys)]
    increment = {counter: table.c[counter] + 1}
    name = connection.dialect.name
    if name == "mysql":
        statement: Insert = mysql.insert(table).values(rows).on_duplicate_key_update(increment)
    else:
        dialect = postgresql if name == "postgresql" else sqlite
        statement = (
            dialect.insert(table)
            .values(rows)
            .on_conflict_do_update(index_elements=[key], set_=increment)
        )
    await connection.execute(statement)


def _mysql_code(error: DBAPIError) -> int | None:
    original = error.orig
    code = original.args[0] if original is not None and original.args else None
    return code if isinstance(code, int) else None


def duplicate_field(error: IntegrityError) -> str | None:
    """The domain field behind a unique violation, whichever dialect reported it."""
    message = str(error.orig)
    for marker, field in UNIQUE_FIELDS.items():
        if marker in message:
            return field
    return None


@asynccontextmanager
async def unique_violations_as_domain_errors() -> AsyncIterator[None]:
    try:
        yield
    except IntegrityError as error:
        field = duplicate_field(error)
        if field is None:
            raise
        raise AlreadyExists(field) from None


@asynccontextmanager
async def missing_reference_as_not_found(what: str) -> AsyncIterator[None]:
    """A foreign-key violation on insert means the row referred to went away after the use
    case looked it up (a concurrent delete): to the caller it is simply not there."""
    try:
        yield
    except IntegrityError as error:
        if duplicate_field(error) is not None:
            raise
        raise NotFound(what) from None


@asynccontextmanager
async def retryable(connection: AsyncConnection) -> AsyncIterator[None]:
    """A savepoint around a write that may hit a unique constraint, so the transaction stays
    usable for a retry (PostgreSQL aborts the whole transaction on any error otherwise)."""
    async with unique_violations_as_domain_errors(), connection.begin_nested():
        yield


def inserted_id(result: CursorResult[Any]) -> int:
    """The integer key the database assigned to the row just inserted."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the insert reported no primary key")
    return int(key[0])


_TRANSIENT_SQLSTATES = {"40001", "40P01"}  # PostgreSQL: serialization failure, deadlock
_TRANSIENT_MYSQL_CODES = {1205, 1213}  # MariaDB/MySQL: lock wait timeout, deadlock


def is_transient(error: BaseException) -> bool:
    """Whether the database rolled the transaction back only because of a concurrent one."""
    if not isinstance(error, DBAPIError) or error.orig is None:
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    code = original.args[0] if original.args else None
    if isinstance(code, int) and code in _TRANSIENT_MYSQL_CODES:
        return True
    return "database is locked" in str(original)  # SQLite, past its busy timeout


def as_transient_conflict(error: BaseException | None) -> TransientConflict | None:
    return TransientConflict() if error is not None and is_transient(error) else None
