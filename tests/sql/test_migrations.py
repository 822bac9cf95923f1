"""The Alembic migrations build exactly the schema ``tables.py`` describes, on every dialect."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from broadsheet.storage.sql import SqlStorage, tables


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, tables.metadata))


async def test_the_migrated_schema_matches_the_table_definitions(sql_url: str) -> None:
    storage = SqlStorage(sql_url)
    try:
        async with storage.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
        revision = await storage.schema_revision()
    finally:
        await storage.close()

    assert differences == []
    assert revision is not None
