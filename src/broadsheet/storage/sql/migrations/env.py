"""Alembic environment: reuses the caller's connection, or opens ``DATABASE_URL``'s."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from broadsheet.storage.sql.tables import metadata
from broadsheet.storage.sql.urls import async_url


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_own_engine() -> None:
    url = os.environ.get("DATABASE_URL", "sqlite:///broadsheet.db")
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


shared = context.config.attributes.get("connection")
if shared is not None:
    run_migrations(shared)
else:
    asyncio.run(run_on_own_engine())
