"""How each scenario grew between two sizes of the same backend:
``python -m bench.growth bench/results/<date>-<backend>-10000.json <...>-1000000.json``.

Prints a Markdown table: p50 and req/s at each size, the p50 growth (the issue's target is
at most 1.5x for the lists and the feed), and the probe request's database time at each
size (the statements alone, without the load's queueing). Nothing is measured here; it reads
two results files that ``bench/run`` wrote.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The scenarios the flat-growth target is about.
LISTS = {"list", "list-signed-in", "by-tag", "by-author", "by-favorited", "feed"}


def _load(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def table(small: dict[str, Any], large: dict[str, Any]) -> str:
    if small["backend"] != large["backend"]:
        raise ValueError("two sizes of the same backend, please")
    rows = {row["scenario"]: row for row in large["scenarios"]}
    a, b = f"{small['articles']:,}", f"{large['articles']:,}"
    lines = [
        f"{small['backend']}: {a} to {b} articles (lists and feed marked *: target p50 "
        "growth at most 1.5x)",
        "",
        f"| scenario | p50 ms {a} | p50 ms {b} | p50 growth | req/s {a} | req/s {b} "
        f"| db ms {a} | db ms {b} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for before in small["scenarios"]:
        after = rows.get(before["scenario"])
        if after is None:
            continue
        growth = after["p50_ms"] / before["p50_ms"] if before["p50_ms"] else float("nan")
        mark = " *" if before["scenario"] in LISTS else ""
        lines.append(
            f"| {before['title']}{mark} | {before['p50_ms']:,.2f} | {after['p50_ms']:,.2f} "
            f"| {growth:.2f}x | {before['requests_per_second']:,.0f} "
            f"| {after['requests_per_second']:,.0f} | {_db(before)} | {_db(after)} |"
        )
    return "\n".join(lines) + "\n"


def _db(row: dict[str, Any]) -> str:
    value = row["probe"].get("db_ms")
    return "" if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__)
    parser.add_argument("small", type=Path)
    parser.add_argument("large", type=Path)
    options = parser.parse_args(argv)
    sys.stdout.write(table(_load(options.small), _load(options.large)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
