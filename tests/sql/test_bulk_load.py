"""The SQL bulk loader leaves the schema exactly as ``tables.py`` describes it (PostgreSQL's
foreign keys, dropped for the load, are back and checked), and a bad reference fails the
load and leaves none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from broadsheet.domain.models import FollowRecord, UserRecord
from broadsheet.security import Argon2Hasher
from broadsheet.seed import Plan, Site, seed
from broadsheet.storage.sql import SqlStorage, tables
from tests import databases
from tests.sql.test_migrations import _differences


@pytest.fixture
async def storage(sql_url: str) -> AsyncIterator[SqlStorage]:
    """An empty store, emptied again after the test."""
    store = SqlStorage(sql_url)
    await databases.empty(store)
    try:
        yield store
    finally:
        await databases.empty(store)
        await store.close()


async def _load_a_small_site(storage: SqlStorage) -> None:
    hasher = Argon2Hasher(time_cost=1, memory_kib=1024, concurrency=1)
    site = Site(Plan.of(articles=30), seed=1, now=datetime.now(UTC), chunk=8)
    site.count(lambda _: None)
    try:
        async with storage.bulk_loader() as loader:
            await seed(loader, hasher, site, lambda _: None)
    finally:
        hasher.close()


async def test_after_a_load_the_schema_is_the_declared_one(storage: SqlStorage) -> None:
    await _load_a_small_site(storage)
    async with storage.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    async with storage.engine.begin() as connection:  # the foreign keys cascade again
        await connection.execute(tables.user_account.delete())
        left = await connection.scalar(select(func.count()).select_from(tables.favorite))

    assert differences == []
    assert left == 0


async def _load_a_follow_of_no_one(storage: SqlStorage) -> None:
    ann = UserRecord(id=1, username="ann", email="ann@example.com", password_hash="h",
                     articles_count=0, favorites_count=0)  # fmt: skip
    async with storage.bulk_loader() as loader:
        await loader.add_users([ann])
        await loader.add_follows([FollowRecord(follower_id=1, followee_id=2)])
        await loader.finish(articles=0)


async def test_a_bad_reference_fails_the_load_and_leaves_nothing_of_it(sql_url: str) -> None:
    """PostgreSQL checks its dropped foreign keys once, at the end; SQLite and MariaDB check
    each row as it comes. Either way a load smaller than one commit leaves no row behind."""
    storage = SqlStorage(sql_url)
    try:
        await databases.empty(storage)
        # asyncpg: "violates foreign key constraint"; SQLite: "FOREIGN KEY constraint failed";
        # MariaDB: "a foreign key constraint fails".
        with pytest.raises(Exception, match=r"(?i)foreign key constraint"):
            await _load_a_follow_of_no_one(storage)
        async with storage.engine.connect() as connection:
            users = await connection.scalar(select(func.count()).select_from(tables.user_account))
            differences = await connection.run_sync(_differences)
    finally:
        await databases.empty(storage)
        await storage.close()

    assert users == 0
    assert differences == []


# What each engine says about the statistics of article_tag, after a load.
PLANNER_STATISTICS = {
    # PostgreSQL: analysed by the load, not left for autovacuum.
    "postgresql": "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables"
    " WHERE relname = 'article_tag'",
    # MariaDB: InnoDB's persistent statistics count the rows loaded.
    "mariadb": "SELECT n_rows > 0 FROM mysql.innodb_table_stats"
    " WHERE database_name = DATABASE() AND table_name = 'article_tag'",
    # SQLite: nothing to keep (no sqlite_stat1); its plans come from the indexes alone.
    "sqlite": "SELECT count(*) = 0 FROM sqlite_master WHERE name = 'sqlite_stat1'",
}


async def test_a_load_leaves_the_planner_statistics_of_what_it_loaded(
    backend: str, storage: SqlStorage
) -> None:
    if backend == "postgresql":  # forget any earlier test's ANALYZE of this database
        async with storage.engine.connect() as connection:
            await connection.execute(text("SELECT pg_stat_reset()"))
    await _load_a_small_site(storage)
    async with storage.engine.connect() as connection:
        fresh = await connection.scalar(text(PLANNER_STATISTICS[backend]))

    assert fresh
