"""The load: wrk in its own process, driven by a Lua script under ``bench/wrk/``, whose
``done()`` prints one ``BENCH_RESULT {json}`` line that is parsed here."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WRK_SCRIPTS = Path(__file__).resolve().parent / "wrk"
MARKER = "BENCH_RESULT "


@dataclass(frozen=True, slots=True)
class Load:
    """What one wrk run sent: its URL and script, and the environment its script reads."""

    url: str
    script: str
    method: str
    path: str
    tokens: list[str]
    body: str | None = None
    slugs: tuple[str, ...] = ()
    tag: str = ""
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # every failed request: connect, read, write, timeout and non-2xx/3xx
    non_2xx: int  # answered with a status of 400 or more (wrk's "status" errors)
    error_detail: dict[str, int]

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def start(
    wrk: str, load: Load, *, seconds: int, connections: int, threads: int, timeout: int
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "BENCH_WRK_DIR": str(WRK_SCRIPTS),
        "BENCH_METHOD": load.method,
        "BENCH_PATH": load.path,
        "BENCH_BODY": load.body or "",
        "BENCH_TOKENS": " ".join(load.tokens),
        "BENCH_SLUGS": " ".join(load.slugs),
        "BENCH_TAG": load.tag,
        "BENCH_RUN_ID": load.run_id,
    }
    command = [
        wrk,
        f"--threads={min(threads, connections)}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        f"--timeout={timeout}s",
        f"--script={WRK_SCRIPTS / (load.script + '.lua')}",
        load.url,
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> WrkResult:
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}: {stderr.strip() or stdout}")
    return parse(stdout)


def parse(output: str) -> WrkResult:
    lines = [line for line in output.splitlines() if line.startswith(MARKER)]
    if not lines:
        raise RuntimeError(f"wrk printed no {MARKER.strip()} line:\n{output}")
    figures: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
    latency = figures["latency_us"]
    detail = {name: int(count) for name, count in figures["errors"].items()}
    return WrkResult(
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors=sum(detail.values()),
        non_2xx=detail.get("status", 0),
        error_detail={name: count for name, count in detail.items() if count},
    )
