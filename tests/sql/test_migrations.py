"""The Alembic migrations build exactly the schema ``tables.py`` describes, on every dialect."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, select

from broadsheet.domain import rules
from broadsheet.storage.sql import SqlStorage, migrations, tables
from tests import databases


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


NFKC_KEYS = "def6b2c8baad"  # the revision that recomputes username keys in NFKC form


async def test_username_keys_are_recomputed_in_nfkc_form(sql_url: str) -> None:
    """Rows written by the previous code (keys only case-folded) get the key lookups compute
    now; a key another account holds, or one too long for the column, is left alone."""
    storage = SqlStorage(sql_url)
    stamp = 17 * "\u337f"  # SQUARE CORPORATION: NFKC makes 4 characters of each
    rows = [  # (username, key the previous code stored)
        ("\uff41lice", "\uff41lice"),  # fullwidth a; registered first
        ("alice", "alice"),  # holds "alice" already: the fullwidth one keeps its old key
        ("\uff22ob", "\uff42ob"),  # fullwidth B
        ("Jose\u0301", "jose\u0301"),  # decomposed accent
        ("jake", "jake"),
        (stamp, stamp),  # its NFKC key would not fit VARCHAR(64)
    ]
    await databases.empty(storage)  # other suites leave their rows behind
    try:
        await storage.downgrade_to(_previous(NFKC_KEYS))
        async with storage.engine.begin() as connection:
            await connection.execute(
                insert(tables.user_account),
                [
                    {
                        "username": name,
                        "username_key": key,
                        "email": f"user{n}@example.com",
                        "password_hash": "hash",
                    }
                    for n, (name, key) in enumerate(rows)
                ],
            )

        await storage.migrate()
        upgraded = await _keys(storage)
        await storage.downgrade_to(_previous(NFKC_KEYS))
        downgraded = await _keys(storage)
        await storage.migrate()
        again = await _keys(storage)
    finally:
        await storage.migrate()
        await databases.empty(storage)
        await storage.close()

    assert upgraded == {
        "\uff41lice": "\uff41lice",
        "alice": "alice",
        "\uff22ob": "bob",
        "Jose\u0301": rules.username_key("Jos\u00e9"),
        "jake": "jake",
        stamp: stamp,
    }
    assert all(
        key == rules.username_key(name)
        for name, key in upgraded.items()
        if name not in {"\uff41lice", stamp}
    )
    assert downgraded == dict(rows)
    assert again == upgraded


def _previous(revision: str) -> str:
    script = ScriptDirectory.from_config(migrations.config())
    down = script.get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


async def _keys(storage: SqlStorage) -> dict[str, str]:
    async with storage.engine.connect() as connection:
        result = await connection.execute(
            select(tables.user_account.c.username, tables.user_account.c.username_key)
        )
        return {row.username: row.username_key for row in result}
