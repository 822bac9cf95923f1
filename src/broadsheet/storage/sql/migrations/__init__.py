"""Alembic migrations for the SQL backends, run through ``broadsheet db …`` (or ``alembic``).

The scripts live inside the package so an installed Broadsheet can migrate its own database.
Alembic is imported only when a migration command runs: a server starting up needs only the
revision ids, which it compares with what the database records.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

HERE = Path(__file__).parent
UPGRADE_HINT = "run `broadsheet db upgrade`"
INITIAL_REVISION = "dafa1864132d"  # creates every table: reverting it drops all content


class RevisionError(ValueError):
    """A revision the scripts do not have (a typo, a newer Broadsheet's), or no valid target."""


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config())


def head() -> str:
    revision = scripts().get_current_head()
    assert revision is not None
    return revision


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    await _run(engine, command.downgrade, revision)


def reverted_by(current: str | None, target: str) -> list[str]:
    """What ``downgrade target`` would undo, newest first, as "revision: title" lines."""
    from alembic.script.revision import RevisionError as AlembicRevisionError
    from alembic.util import CommandError

    if current is None:
        return []
    try:
        # As Alembic's downgrade plans it, so "-1", "base" and ids mean what they do there.
        reverted = list(scripts().iterate_revisions(current, target, select_for_downgrade=True))
    except (CommandError, AlembicRevisionError) as error:
        raise RevisionError(str(error)) from None
    return [f"{script.revision}: {_title(script.doc)}" for script in reverted]


async def current(engine: AsyncEngine) -> str | None:
    def read(sync: Connection) -> str | None:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(sync).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def problem(engine: AsyncEngine) -> str | None:
    """Why the schema cannot serve this Broadsheet: missing, behind, or unknown."""
    at = await current(engine)
    known = scripts()
    newest = known.get_current_head()
    if at == newest:
        return None
    if at is None:
        return f"schema is missing: {UPGRADE_HINT}"
    if at not in {script.revision for script in known.walk_revisions()}:
        return f"schema is at unknown revision {at} (a newer Broadsheet's?): upgrade Broadsheet"
    return f"schema is behind (at {at}, needs {newest}): {UPGRADE_HINT}"


async def _run(engine: AsyncEngine, operation: Any, revision: str) -> None:
    from alembic.script.revision import RevisionError as AlembicRevisionError
    from alembic.util import CommandError

    migrating = _without_foreign_keys(engine)
    try:
        async with migrating.begin() as connection:
            await connection.run_sync(lambda sync: operation(config(sync), revision))
            if connection.dialect.name == "sqlite":
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"the migration broke references: {broken[:5]}")
    except (CommandError, AlembicRevisionError) as error:
        raise RevisionError(str(error)) from None
    finally:
        if migrating is not engine:
            await migrating.dispose()


def _without_foreign_keys(engine: AsyncEngine) -> AsyncEngine:
    """SQLite alters a table by rebuilding it, and dropping the old copy of a table that
    others reference would cascade-delete their rows while foreign keys are on: migrations
    run on connections of their own, which SQLite opens with foreign keys off, and the
    references are checked afterwards (the procedure SQLite's ALTER TABLE page gives). The
    other databases alter in place."""
    if engine.dialect.name != "sqlite" or engine.url.database in {None, "", ":memory:"}:
        return engine
    return create_async_engine(engine.url, poolclass=NullPool)


def _title(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc and doc.strip() else "(untitled)"
