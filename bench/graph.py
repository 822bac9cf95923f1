"""``python -m bench.graph``: the follow graph's reads at 100,000 users and 1,000,000 follows.

For each backend a fresh database is seeded with ``broadsheet seed --users N`` (each user
follows 1 to 19 others, 10 on average, most often the most followed), then suggestions for
``--samples`` random readers and the shortest path between as many random pairs are run
one after another through the unit of work, as a request runs them. Reported: p50, p99 and
the longest of each, and how many pairs a path joined within ``rules.MAX_PATH_FOLLOWS``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import databases
from bench.runner import BROADSHEET, broadsheet_step, server_environment
from broadsheet.domain import rules
from broadsheet.storage import open_storage


async def _timed(calls: list[Callable[[], Awaitable[object]]]) -> list[float]:
    took = []
    for call in calls:
        started = time.perf_counter()
        await call()
        took.append((time.perf_counter() - started) * 1000)
    return took


async def measure(url: str, *, users: int, samples: int) -> dict[str, Any]:
    storage = open_storage(url)
    draw = random.Random(7)
    readers = [draw.randint(1, users) for _ in range(samples)]
    pairs = [(draw.randint(1, users), draw.randint(1, users)) for _ in range(samples)]
    joined = 0

    async def suggest(reader: int) -> None:
        async with storage.unit_of_work().read_only() as uow:
            await uow.graph.suggestions(reader, limit=rules.DEFAULT_SUGGESTIONS)

    async def path(start: int, end: int) -> None:
        nonlocal joined
        async with storage.unit_of_work().read_only() as uow:
            chain = await uow.graph.path(start, end, max_follows=rules.MAX_PATH_FOLLOWS)
        joined += chain is not None

    try:
        await suggest(1)  # the pool's first connection
        suggestions = await _timed([functools.partial(suggest, r) for r in readers])
        paths = await _timed([functools.partial(path, a, b) for a, b in pairs])
    finally:
        await storage.close()
    return {"suggestions": suggestions, "paths": paths, "joined": joined}


def _summary(took: list[float]) -> str:
    ordered = sorted(took)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{statistics.median(ordered):.1f} | {p99:.1f} | {ordered[-1]:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)

    lines = [
        f"{args.users:,} users, about {args.users * 10:,} follows; {args.samples} random "
        "readers and pairs, one at a time; milliseconds",
        "",
        "| backend | suggestions p50 | p99 | max | path p50 | p99 | max | pairs joined |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as workdir:
            database = databases.create(backend, Path(workdir))
            try:
                env = server_environment(database.url)
                log = Path(workdir) / "setup.log"
                broadsheet_step([str(BROADSHEET), "db", "upgrade"], env, log)
                seeded = broadsheet_step(
                    [str(BROADSHEET), "seed", "--articles", str(args.articles),
                     "--users", str(args.users)],
                    env,
                    log,
                )  # fmt: skip
                sys.stderr.write(f"{backend}: seeded in {seeded:.0f} s\n")
                figures = asyncio.run(measure(database.url, users=args.users, samples=args.samples))
            finally:
                database.drop()
        lines.append(
            f"| {backend} | {_summary(figures['suggestions'])} | {_summary(figures['paths'])} | "
            f"{figures['joined']}/{args.samples} |"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
