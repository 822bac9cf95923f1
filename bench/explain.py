"""The plan of every list's statements on a seeded SQL database:
``python -m bench.explain DATABASE_URL [--markdown]``.

Each list (every article, by tag, by author, by favorited, the feed, a deep page, two filters,
the popular tags) runs once through its use case on the adapter, exactly as a request would,
with a listener on the engine that records each statement and its parameters. Each recorded
``SELECT`` then runs again under ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN
QUERY PLAN`` on SQLite, ``ANALYZE FORMAT=JSON`` on MariaDB, with the same parameters, and the
plan is printed with the statement. Read-only: it changes nothing in the database.

The targets are picked from the data: the most used tag, the author of the newest article,
the seeded reader ``ada`` (a favoriter who follows several authors).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from broadsheet.domain.models import ArticleFilter
from broadsheet.domain.ports import UnitOfWork
from broadsheet.services import articles, tags
from broadsheet.storage import ConnectionOptions
from broadsheet.storage.sql import SqlStorage

READER = "ada"


@dataclass
class Recorded:
    statement: str
    parameters: Any


@dataclass
class Explained:
    title: str
    took_ms: float  # the use case, once, as a request runs it
    statements: list[tuple[str, str]]  # (statement with its parameters, plan)


async def _lists(storage: SqlStorage) -> list[tuple[str, Callable[[UnitOfWork], Awaitable[Any]]]]:
    async with storage.engine.connect() as connection:
        tag = await connection.scalar(
            text("SELECT name FROM tag ORDER BY articles_count DESC, name LIMIT 1")
        )
        author = await connection.scalar(
            text(
                "SELECT u.username FROM article a JOIN user_account u ON u.id = a.author_id "
                "ORDER BY a.created_at DESC, a.id DESC LIMIT 1"
            )
        )
        reader = await connection.scalar(
            text("SELECT id FROM user_account WHERE username = :name"), {"name": READER}
        )

    def find(**filters: Any) -> Callable[[UnitOfWork], Awaitable[Any]]:
        offset = filters.pop("offset", None)
        viewer = filters.pop("viewer", None)
        return lambda uow: articles.find(
            uow, filters=ArticleFilter(**filters), viewer_id=viewer, limit=20, offset=offset
        )

    return [
        ("every article, anonymous", find()),
        ("every article, signed in", find(viewer=reader)),
        (f"?tag={tag}", find(tag=tag)),
        (f"?author={author}", find(author=author)),
        (f"?favorited={READER}", find(favorited_by=READER)),
        (
            f"the feed of {READER}",
            lambda uow: articles.feed(uow, viewer_id=reader, limit=20, offset=None),
        ),
        ("every article, offset 10000", find(offset=10_000)),
        (f"?tag={tag}&author={author}", find(tag=tag, author=author)),
        ("popular tags", lambda uow: tags.popular(uow)),
    ]


def _explain_prefix(dialect: str) -> str:
    return {
        "postgresql": "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ",
        "sqlite": "EXPLAIN QUERY PLAN ",
        "mysql": "ANALYZE FORMAT=JSON ",
    }[dialect]


async def explain(url: str) -> list[Explained]:
    storage = SqlStorage(url, ConnectionOptions(statement_timeout=120))
    recorded: list[Recorded] = []

    def record(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        recorded.append(Recorded(statement, parameters))

    dialect = storage.engine.dialect.name
    prefix = _explain_prefix(dialect)
    results = []
    try:
        for title, use_case in await _lists(storage):
            event.listen(storage.engine.sync_engine, "before_cursor_execute", record)
            started = time.perf_counter()
            try:
                await use_case(storage.unit_of_work())
            finally:
                event.remove(storage.engine.sync_engine, "before_cursor_execute", record)
            took = (time.perf_counter() - started) * 1000
            statements = []
            for query in [r for r in recorded if r.statement.lstrip().upper().startswith("SELECT")]:
                async with storage.engine.connect() as connection:
                    raw = await connection.exec_driver_sql(
                        prefix + query.statement, query.parameters
                    )
                    plan = "\n".join(" | ".join(str(v) for v in row) for row in raw.all())
                statements.append(
                    (f"{query.statement.strip()}\n-- parameters: {query.parameters}", plan)
                )
            recorded.clear()
            results.append(Explained(title, took, statements))
    finally:
        await storage.close()
    return results


def markdown(results: Sequence[Explained]) -> str:
    lines = []
    for result in results:
        lines.append(f"### {result.title} ({result.took_ms:.1f} ms for the use case)\n")
        for statement, plan in result.statements:
            lines += ["```sql", statement, "```", "", "```", plan, "```", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__)
    parser.add_argument("database_url", help="a seeded database (broadsheet seed)")
    options = parser.parse_args(argv)
    sys.stdout.write(markdown(asyncio.run(explain(options.database_url))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
