"""Every read beyond RealWorld uses an index on PostgreSQL at 100,000 articles.

A site of 100,000 articles (10,000 users, 100,000 follows, their favorites and comments) is loaded
as ``broadsheet seed`` loads it; each use case then runs once with its statements recorded,
and each statement's plan (``EXPLAIN (FORMAT JSON)``) must read the large tables through an
index: no sequential scan of any table over 1,000 rows. Small tables (the tag counters) may
be scanned; the planner is right to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from broadsheet.domain.ports import UnitOfWork
from broadsheet.security import Argon2Hasher
from broadsheet.seed import PLACES, Plan, Site, seed
from broadsheet.services import analytics, articles, graph
from broadsheet.storage.sql import SqlStorage
from tests import databases

ARTICLES = 100_000
NOW = datetime.now(UTC)


class _Clock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def site_url(tmp_path: Path) -> Iterator[str]:
    url = databases.create_database("postgresql", tmp_path)
    yield url
    databases.drop_database("postgresql", url)


@pytest.fixture
async def site(site_url: str) -> AsyncIterator[SqlStorage]:
    storage = SqlStorage(site_url)
    hasher = Argon2Hasher(time_cost=1, memory_kib=1024, concurrency=1)
    try:
        generated = Site(Plan.of(articles=ARTICLES), seed=5, now=NOW)
        generated.count(lambda _: None)
        async with storage.bulk_loader() as loader:
            await seed(loader, hasher, generated, lambda _: None)
        yield storage
    finally:
        hasher.close()
        await storage.close()


async def _one(storage: SqlStorage, query: str) -> Any:
    async with storage.engine.connect() as connection:
        return await connection.scalar(text(query))


async def _use_cases(storage: SqlStorage) -> dict[str, Callable[[UnitOfWork], Awaitable[Any]]]:
    # Places the seeder names by Zipf's law: about 60, 600 and 200 articles of 100,000.
    word, phrase, prefix = PLACES[100], f'"from {PLACES[10]}"', PLACES[30][:4] + "*"
    author = await _one(
        storage, "SELECT username FROM user_account ORDER BY articles_count DESC LIMIT 1"
    )
    reader = await _one(storage, "SELECT id FROM user_account ORDER BY id LIMIT 1")
    first = await _one(storage, "SELECT username FROM user_account ORDER BY id LIMIT 1")
    clock = _Clock()
    return {
        f"search {word}": lambda uow: articles.search(uow, q=word, viewer_id=None),
        f"search {phrase}": lambda uow: articles.search(uow, q=phrase, viewer_id=reader),
        f"search {prefix}": lambda uow: articles.search(uow, q=prefix, viewer_id=None),
        "tag trends": lambda uow: analytics.tag_trends(uow, clock=clock),
        "trending": lambda uow: analytics.trending(uow, clock=clock, viewer_id=reader),
        f"stats of {author}": lambda uow: analytics.author_stats(
            uow, username=author, viewer_id=reader
        ),
        "suggestions": lambda uow: graph.suggestions(uow, viewer_id=reader),
        f"path to {author}": lambda uow: graph.path(
            uow, from_username=first, to_username=author, viewer_id=None
        ),
    }


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _plans(
    storage: SqlStorage, use_case: Callable[[UnitOfWork], Awaitable[Any]]
) -> list[Any]:
    recorded: list[tuple[str, Any]] = []

    def record(_c: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            recorded.append((statement, parameters))

    event.listen(storage.engine.sync_engine, "before_cursor_execute", record)
    try:
        await use_case(storage.unit_of_work())
    finally:
        event.remove(storage.engine.sync_engine, "before_cursor_execute", record)
    plans = []
    async with storage.engine.connect() as connection:
        for statement, parameters in recorded:
            result = await connection.exec_driver_sql(
                "EXPLAIN (FORMAT JSON) " + statement, parameters
            )
            plans.append(result.scalar_one()[0]["Plan"])
    return plans


async def test_every_new_read_uses_an_index_at_100k_articles(site: SqlStorage) -> None:
    async with site.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")
        )
        sizes = {row.relname: row.reltuples for row in result}
    large = {name for name, rows in sizes.items() if rows > 1000}
    assert {"article", "article_search", "article_tag", "favorite", "follow"} <= large

    seen: dict[str, list[str]] = {}
    for name, use_case in (await _use_cases(site)).items():
        plans = await _plans(site, use_case)
        assert plans, name
        nodes = [node for plan in plans for node in _nodes(plan)]
        scanned = [n.get("Relation Name") for n in nodes if n["Node Type"] == "Seq Scan"]
        assert not large & set(scanned), (name, scanned)
        seen[name] = sorted({n.get("Index Name", "") for n in nodes} - {""})
        assert seen[name], (name, "no index used")
    assert any("ix_article_search_document" in names for names in seen.values()), seen
    assert any("ix_favorite_favorited_at" in " ".join(names) for names in seen.values()), seen
    assert any("ix_article_tag_created_at_tag" in names for names in seen.values()), seen
