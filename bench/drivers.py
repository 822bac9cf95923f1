"""``python -m bench.drivers``: asyncpg against psycopg 3 under Broadsheet's reads, side by side.

Both drivers serve the same use cases (``services.articles.find`` and ``show``,
``services.tags.popular``) through Broadsheet's SQL unit of work, on one freshly seeded
PostgreSQL database, from 16 concurrent tasks in one process; the drivers take turns round by
round, so whatever else the machine does lands on both alike. What differs is only the
SQLAlchemy dialect and the driver under it. The web layer is left out: it costs the same on
either driver.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench import databases
from bench.runner import BROADSHEET, broadsheet_step, server_environment
from broadsheet.domain.models import ArticleFilter
from broadsheet.services import articles, tags
from broadsheet.storage.sql.uow import SqlUnitOfWork

DRIVERS = {"asyncpg": "postgresql+asyncpg", "psycopg": "postgresql+psycopg"}
Read = Callable[[SqlUnitOfWork], Awaitable[object]]


def _reads(slug: str) -> dict[str, Read]:
    return {
        "list, anonymous": lambda uow: articles.find(
            uow, filters=ArticleFilter(), viewer_id=None, limit=20, offset=0
        ),
        "list by tag": lambda uow: articles.find(
            uow, filters=ArticleFilter(tag="databases"), viewer_id=None, limit=20, offset=0
        ),
        "one article": lambda uow: articles.show(uow, slug=slug, viewer_id=None),
        "tags": lambda uow: tags.popular(uow),
    }


async def _rate(engine: AsyncEngine, read: Read, *, calls: int, tasks: int) -> float:
    """Use cases per second, ``tasks`` at a time."""

    async def worker() -> None:
        for _ in range(calls // tasks):
            await read(SqlUnitOfWork(engine))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return (calls // tasks * tasks) / (time.perf_counter() - started)


async def compare(url: str, *, rounds: int, calls: int, tasks: int) -> dict[str, dict[str, float]]:
    plain = url.split("://", 1)[1]
    engines = {
        name: create_async_engine(f"{dialect}://{plain}", pool_size=tasks, max_overflow=0)
        for name, dialect in DRIVERS.items()
    }
    try:
        first = await articles.find(
            SqlUnitOfWork(engines["asyncpg"]), filters=ArticleFilter(), viewer_id=None
        )
        reads = _reads(first.items[0].slug)
        samples: dict[str, dict[str, list[float]]] = {
            read: {driver: [] for driver in engines} for read in reads
        }
        for read_name, read in reads.items():
            answers = [await read(SqlUnitOfWork(engine)) for engine in engines.values()]
            if any(answer != answers[0] for answer in answers):
                raise RuntimeError(f"the drivers answer {read_name!r} differently")
        for engine in engines.values():  # warm each pool and statement cache
            for read in reads.values():
                await _rate(engine, read, calls=tasks * 5, tasks=tasks)
        for _ in range(rounds):
            for read_name, read in reads.items():
                for driver, engine in engines.items():
                    rate = await _rate(engine, read, calls=calls, tasks=tasks)
                    samples[read_name][driver].append(rate)
        return {
            read: {driver: statistics.median(rates) for driver, rates in by_driver.items()}
            for read, by_driver in samples.items()
        }
    finally:
        for engine in engines.values():
            await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=800)
    parser.add_argument("--tasks", type=int, default=16)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as workdir:
        database = databases.create("postgresql", Path(workdir))
        try:
            env = server_environment(database.url)
            log = Path(workdir) / "setup.log"
            broadsheet_step([str(BROADSHEET), "db", "upgrade"], env, log)
            broadsheet_step([str(BROADSHEET), "seed", "--articles", str(args.articles)], env, log)
            figures = asyncio.run(
                compare(database.url, rounds=args.rounds, calls=args.calls, tasks=args.tasks)
            )
        finally:
            database.drop()

    lines = [
        f"PostgreSQL {databases.server_version('postgresql')}, {args.articles} articles seeded; "
        f"{args.tasks} concurrent tasks, median of {args.rounds} rounds x {args.calls} calls",
        "",
        "| use case | asyncpg per s | psycopg per s | psycopg / asyncpg |",
        "|---|---:|---:|---:|",
    ]
    for read, by_driver in figures.items():
        asyncpg_rate, psycopg_rate = by_driver["asyncpg"], by_driver["psycopg"]
        lines.append(
            f"| {read} | {asyncpg_rate:,.0f} | {psycopg_rate:,.0f} | "
            f"{psycopg_rate / asyncpg_rate:.2f}x |"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
