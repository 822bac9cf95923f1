"""The Alembic migrations build exactly the schema ``tables.py`` describes, on every dialect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, inspect, select

from broadsheet.domain import rules
from broadsheet.domain import search as search_rules
from broadsheet.domain.models import ArticleFilter
from broadsheet.storage.sql import SqlStorage, migrations, search, tables
from tests import databases

# Indexes with an expression (a DESC column) that Alembic cannot compare: checked by name.
EXPRESSION_INDEXES = {"ix_tag_popularity"}


def _compared(obj: Any, name: str | None, type_: str, _reflected: bool, _other: Any) -> bool:
    # The search table is engine-specific DDL (storage/sql/search.py), checked apart below;
    # SQLite's FTS5 table comes with shadow tables ("article_search_data", ...).
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    if (table or "").startswith(search.TABLE):
        return False
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": _compared}
    )
    indexes = {index["name"] for index in inspect(connection).get_indexes("tag")}
    missing = [("missing index", name) for name in EXPRESSION_INDEXES - indexes]
    if not inspect(connection).has_table(search.TABLE):
        missing.append(("missing table", search.TABLE))
    return [*compare_metadata(context, tables.metadata), *missing]


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


FLAT_LISTS = "0b5c5ae66879"  # the revision that adds counters and copied sort keys


async def test_counters_and_sort_keys_are_computed_from_existing_rows(sql_url: str) -> None:
    """Rows written before the counters existed come out counted and copied, exactly as if
    they had been written since (the integrity check finds nothing), and the migration
    reverts and reapplies cleanly."""
    storage = SqlStorage(sql_url)
    moment = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    await databases.empty(storage)
    try:
        await storage.downgrade_to(_previous(FLAT_LISTS))
        async with storage.engine.begin() as connection:
            await connection.execute(
                insert(tables.user_account),
                [
                    {"id": n, "username": name, "username_key": name,
                     "email": f"{name}@example.com", "password_hash": "hash"}
                    for n, name in enumerate(["ann", "bob", "cy"], start=1)
                ],
            )  # fmt: skip
            await connection.execute(
                insert(tables.article),
                [
                    {"id": n, "slug": f"a{n}", "title": "t", "description": "d", "body": "b",
                     "author_id": author, "created_at": moment + timedelta(hours=n),
                     "updated_at": moment + timedelta(hours=n)}
                    for n, author in [(1, 1), (2, 1), (3, 2)]
                ],
            )  # fmt: skip
            await connection.execute(
                insert(tables.article_tag),
                [{"article_id": a, "tag": t} for a, t in [(1, "x"), (1, "y"), (2, "y"), (3, "y")]],
            )
            await connection.execute(
                insert(tables.favorite),
                [{"user_id": u, "article_id": a} for u, a in [(3, 1), (3, 3), (2, 1)]],
            )

        await storage.migrate()
        upgraded = await _totals(storage)
        findings = await storage.check(repair=False)
        await storage.downgrade_to(_previous(FLAT_LISTS))
        await storage.migrate()
        again = await _totals(storage)
    finally:
        await storage.migrate()
        await databases.empty(storage)
        await storage.close()

    assert findings == []
    assert upgraded == {
        "everything": (3, ["a3", "a2", "a1"]),
        "tag y": (3, ["a3", "a2", "a1"]),
        "tag x": (1, ["a1"]),
        "by ann": (2, ["a2", "a1"]),
        "favorited by cy": (2, ["a3", "a1"]),
        "feed": (0, []),
        "favorites": [2, 0, 1],
        "tags": ["y", "x"],
    }
    assert again == upgraded


async def _totals(storage: SqlStorage) -> dict[str, object]:
    async with storage.unit_of_work().read_only() as uow:
        lists = {
            "everything": ArticleFilter(),
            "tag y": ArticleFilter(tag="y"),
            "tag x": ArticleFilter(tag="x"),
            "by ann": ArticleFilter(author="ann"),
            "favorited by cy": ArticleFilter(favorited_by="cy"),
        }
        totals: dict[str, object] = {}
        for name, filters in lists.items():
            page = await uow.articles.find(filters, viewer_id=None, limit=20, offset=0)
            totals[name] = (page.total, [item.slug for item in page.items])
        feed = await uow.articles.feed(viewer_id=1, limit=20, offset=0)
        totals["feed"] = (feed.total, [item.slug for item in feed.items])
        views = [await uow.articles.view(f"a{n}", viewer_id=None) for n in (1, 2, 3)]
        totals["favorites"] = [view.favorites_count for view in views if view is not None]
        totals["tags"] = await uow.tags.popular()
    return totals


ARTICLE_SEARCH = "3f9d2c71a8e4"  # the revision that adds the full-text index


async def test_articles_written_before_search_existed_are_found(sql_url: str) -> None:
    """The migration fills the index for the articles already stored (in batches: more
    articles than one batch), and reverts and reapplies cleanly."""
    storage = SqlStorage(sql_url)
    moment = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    await databases.empty(storage)
    try:
        await storage.downgrade_to(_previous(ARTICLE_SEARCH))
        async with storage.engine.begin() as connection:
            await connection.execute(
                insert(tables.user_account),
                [{"id": 1, "username": "ann", "username_key": "ann",
                  "email": "ann@example.com", "password_hash": "hash"}],
            )  # fmt: skip
            await connection.execute(
                insert(tables.article),
                [
                    {"id": n, "slug": f"a{n}", "title": f"Article {n}",
                     "description": "Dragons" if n % 100 == 0 else "Cats",
                     "body": "Training them", "author_id": 1,
                     "created_at": moment + timedelta(minutes=n),
                     "updated_at": moment + timedelta(minutes=n)}
                    for n in range(1, 1201)
                ],
            )  # fmt: skip

        await storage.migrate()
        found = await _found(storage, "dragon train*")
        await storage.downgrade_to(_previous(ARTICLE_SEARCH))
        await storage.migrate()
        again = await _found(storage, "dragon train*")
    finally:
        await storage.migrate()
        await databases.empty(storage)
        await storage.close()

    assert found == (12, {f"a{n}" for n in range(100, 1201, 100)})
    assert again == found


async def _found(storage: SqlStorage, q: str) -> tuple[int, set[str]]:
    async with storage.unit_of_work().read_only() as uow:
        page = await uow.articles.search(search_rules.parse(q), viewer_id=None, limit=20, offset=0)
    return page.total, {item.slug for item in page.items}
