"""The Alembic migrations build exactly the schema ``tables.py`` describes, on every dialect."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from broadsheet.storage.sql import SqlStorage, tables
from tests.conftest import BACKENDS

SQL_BACKENDS = [b for b in BACKENDS if b in {"sqlite", "postgresql", "mariadb"}]


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, tables.metadata))


@pytest.fixture(params=SQL_BACKENDS)
def migrated_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[str(request.param)]  # created outside the test's event loop


async def test_the_migrated_schema_matches_the_table_definitions(migrated_url: str) -> None:
    storage = SqlStorage(migrated_url)
    try:
        async with storage.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
        revision = await storage.schema_revision()
    finally:
        await storage.close()

    assert differences == []
    assert revision is not None
