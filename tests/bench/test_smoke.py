"""The benchmark end to end at a tiny scale on SQLite: every piece runs (database, seed,
``broadsheet serve``, the ceiling, wrk and its Lua scripts, the CPU monitor, the results
files), every scenario asked for is in the results, with requests answered and no errors.
The figures themselves mean nothing at this size; only that they are there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASKED = [
    "list", "list-signed-in", "article", "tags", "search", "trending", "suggestions", "path",
    "create-article", "favorite", "add-comment",
]  # fmt: skip
CEILINGS = ["ceiling-list", "ceiling-article", "ceiling-tags", "ceiling-static", "ceiling-write"]


def test_the_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: the benchmark needs it (Debian: apt-get install wrk)")
    command = [
        sys.executable, "-m", "bench", "--backends", "sqlite", "--articles", "30",
        "--duration", "1s", "--warmup", "0", "--workers", "1", "--connections", "4",
        "--threads", "1", "--repeat", "1", "--scenarios", ",".join(ASKED),
        "--results-dir", str(tmp_path),
    ]  # fmt: skip
    env = {name: value for name, value in os.environ.items() if not name.startswith("BENCH_")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]

    [result_file] = tmp_path.glob("*-sqlite-30.json")
    result = json.loads(result_file.read_text())
    rows = {row["scenario"]: row for row in result["scenarios"]}
    assert list(rows) == [key for key in rows if key in ASKED + CEILINGS]
    assert set(rows) == set(ASKED + CEILINGS)
    for key, row in rows.items():
        assert row["requests_per_second"] > 0, key
        assert row["errors"] == 0, (key, row["error_detail"])
        assert row["probe"]["status"] == row["probe"]["expected_status"], key
        assert row["rss_mb"]["max"] > 0, key
        if key in {"list", "list-signed-in", "ceiling-list", "tags", "ceiling-tags"}:
            assert row["probe"]["items"] > 0, key  # the seeded data gives every list rows
    for key in [*CEILINGS[:3], "ceiling-write"]:
        assert rows[key]["probe"]["statements"] == 1, key  # the ceiling's own Server-Timing
    assert rows["list"]["versus"]["ceiling"] > 0
    assert rows["list"]["versus"]["static"] > 0
    assert rows["favorite"]["versus"]["ceiling_scenario"] == "ceiling-write"
    assert result["server_log_errors"] == {"broadsheet": [], "ceiling": []}
    assert result["ceiling_mismatches"] == []  # the ceiling answers what Broadsheet answers
    assert result["versions"]["broadsheet_commit"]
    assert result["machine"]["cores"] >= 1

    table = result_file.with_suffix(".md").read_text()
    for row in rows.values():
        assert f"| {row['title']} |" in table
