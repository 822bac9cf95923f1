"""The benchmark, end to end, for each backend and size asked for:

1. a fresh database; ``broadsheet db upgrade``; ``broadsheet seed --articles N``;
2. ``broadsheet serve --workers W`` and the ceiling (``bench/ceiling.py``) with as many
   workers, side by side;
3. targets picked through the API (a tag, an author, articles; the reader's token and the
   writers' tokens);
4. each scenario: a warm-up, one probe request (its ``Server-Timing``), then the measured wrk
   run, again (up to ``--repeat``) while other processes took too much of the CPU;
5. the results files; the servers stopped and the database dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

import redis
from bench import api, databases, load, machine, monitor, results, scenarios
from bench.scenarios import Scenario, Targets
from bench.servers import GRANIAN_READY, Server
from bench.timing import parse_server_timing

ROOT = machine.ROOT
BROADSHEET = Path(sys.executable).with_name("broadsheet")
SECRET_KEY = "bench-secret-key-0123456789abcdef-not-for-production"
CEILING_SCHEMA = re.compile(r"ceiling schema: (\w+)")
SETTLE_SECONDS = 0.25  # how long the servers must stay idle before a scenario starts


def say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _seconds(text: str) -> int:
    """``10s``, ``2m``, ``10`` -> whole seconds (wrk's -d takes no fractions)."""
    match = re.fullmatch(r"\s*(\d+)\s*(s|m|h)?\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (say 10s, 2m)")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]


def _sizes(text: str) -> list[int]:
    """``10000,1M`` -> [10000, 1000000]."""
    sizes = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*([kKmM])?\s*", part)
        if match is None:
            raise argparse.ArgumentTypeError(f"not a number of articles: {part!r}")
        factor = {"": 1, "k": 1000, "m": 1_000_000}[(match.group(2) or "").lower()]
        sizes.append(int(match.group(1)) * factor)
    return sizes


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmark Broadsheet against its raw ceiling (see bench/README.md).",
    )
    parser.add_argument(
        "--backends",
        type=_names,
        default=["sqlite"],
        help=f"comma list of {', '.join(databases.BACKENDS)} (default sqlite)",
    )
    parser.add_argument(
        "--articles",
        type=_sizes,
        default=[10_000],
        help="comma list of sizes to seed, e.g. 10000,1M (default 10000)",
    )
    parser.add_argument(
        "--users", type=int, default=None, help="users to seed (default: the seeder's own)"
    )
    parser.add_argument(
        "--duration", type=_seconds, default=10, help="measured run per scenario (default 10s)"
    )
    parser.add_argument(
        "--warmup",
        type=_seconds,
        default=2,
        help="unmeasured run before each scenario (default 2s; 0 for none)",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="workers per server (2)")
    parser.add_argument(
        "--timeout", type=_seconds, default=10, help="wrk's per-request timeout (default 10s)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per scenario at most while the machine is busy (3)",
    )
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=10.0,
        help="%% of the machine's CPU other processes may take before a "
        "scenario is run again (default 10)",
    )
    parser.add_argument(
        "--scenarios",
        type=_names,
        default=None,
        help="comma list of scenario keys (default: all; their ceilings "
        f"are added): {', '.join(scenarios.BY_KEY)}",
    )
    parser.add_argument(
        "--redis",
        default=None,
        metavar="URL",
        help="also run the hot anonymous reads on a second server with this Redis, so with "
        "the anonymous read cache (keys under a prefix of their own, deleted after)",
    )
    parser.add_argument(
        "--granian",
        action="store_true",
        help="also run a few scenarios on the same app served by granian (the server "
        "comparison; granian is in the bench extra)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=ROOT / "bench" / "results",
        help="where the results files go (default bench/results)",
    )
    options = parser.parse_args(argv)
    unknown = sorted(set(options.backends) - set(databases.BACKENDS))
    if unknown:
        parser.error(f"unknown backends {unknown}; known: {', '.join(databases.BACKENDS)}")
    try:
        options.selected = scenarios.selected(
            options.scenarios, cached=options.redis is not None, granian=options.granian
        )
    except ValueError as error:
        parser.error(str(error))
    if options.repeat < 1 or options.workers < 1 or options.connections < 1:
        parser.error("--repeat, --workers and --connections must be at least 1")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_arguments(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        say("error: wrk is not installed (Debian: apt-get install wrk); the benchmark needs it")
        return 2
    if not BROADSHEET.exists():
        say(f"error: no broadsheet command at {BROADSHEET}: run bench/run, which installs it")
        return 2
    for backend in options.backends:
        for articles in options.articles:
            result = run(backend, articles, options, wrk)
            json_path, markdown_path = results.write(result, options.results_dir)
            say(f"wrote {json_path} and {markdown_path.name}")
    return 0


def server_environment(database_url: str) -> dict[str, str]:
    """As a user runs Broadsheet: defaults, but for what the benchmark must fix."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BROADSHEET_", "BENCH_")) and name != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=database_url,
        BROADSHEET_SECRET_KEY=SECRET_KEY,
        BROADSHEET_RATE_LIMITS="off",
        BROADSHEET_SERVER_TIMING="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def broadsheet_step(command: list[str], env: dict[str, str], log: Path) -> float:
    """Run a ``broadsheet`` command to completion; its seconds."""
    started = time.monotonic()
    with log.open("ab") as output:
        done = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{' '.join(command[1:])} exited with {done.returncode}:\n{tail}")
    return time.monotonic() - started


def run(backend: str, articles: int, options: argparse.Namespace, wrk: str) -> dict[str, Any]:
    label = f"[{backend} {articles:,}]"
    server_options = machine.broadsheet_server_options()
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as scratch:
        workdir = Path(scratch)
        database = databases.create(backend, workdir)
        try:
            env = server_environment(database.url)
            setup_log = workdir / "setup.log"
            say(f"{label} database {database.name}: db upgrade")
            upgrade = broadsheet_step([str(BROADSHEET), "db", "upgrade"], env, setup_log)
            say(f"{label} seed --articles {articles}")
            seed_command = [str(BROADSHEET), "seed", "--articles", str(articles)]
            if options.users is not None:
                seed_command += ["--users", str(options.users)]
            seed = broadsheet_step(seed_command, env, setup_log)
            say(f"{label} seeded in {seed:.1f} s; starting the servers")
            broadsheet = Server(
                "broadsheet serve",
                [str(BROADSHEET), "serve", "--host", "127.0.0.1"],
                env=env,
                log_path=workdir / "broadsheet.log",
                workers=options.workers,
                ready_path="/healthz",
            )
            ceiling = Server(
                "the ceiling",
                [sys.executable, "-m", "bench.ceiling", "--host", "127.0.0.1",
                 "--loop", server_options["loop"], "--http", server_options["http"]],
                env={**env, "BENCH_DATABASE_URL": database.url, "PYTHONPATH": str(ROOT)},
                log_path=workdir / "ceiling.log",
                workers=options.workers,
                ready_path="/static",
                cwd=ROOT,
            )  # fmt: skip
            servers = {"broadsheet": broadsheet, "ceiling": ceiling}
            if options.redis is not None:
                servers["cached"] = Server(
                    "broadsheet serve (cached)",
                    [str(BROADSHEET), "serve", "--host", "127.0.0.1"],
                    env={
                        **env,
                        "BROADSHEET_REDIS_URL": options.redis,
                        "BROADSHEET_REDIS_KEY_PREFIX": f"broadsheet-bench-{database.name}",
                    },
                    log_path=workdir / "cached.log",
                    workers=options.workers,
                    ready_path="/healthz",
                )
            if options.granian:
                servers["granian"] = Server(
                    "granian",
                    [str(BROADSHEET.with_name("granian")), "--interface", "asgi", "--factory",
                     "--host", "127.0.0.1", "--loop", server_options["loop"], "--no-ws",
                     "--log-level", "info", "broadsheet.web.app:create_app"],
                    env=env,
                    log_path=workdir / "granian.log",
                    workers=options.workers,
                    ready_path="/healthz",
                    ready_line=GRANIAN_READY,
                )  # fmt: skip
            with contextlib.ExitStack() as running:
                for server in servers.values():
                    running.enter_context(server)
                targets = scenarios.pick_targets(broadsheet.url)
                say(f"{label} targets {targets.summary()}")
                mismatches = _ceiling_mismatches(broadsheet.url, ceiling.url, targets)
                if mismatches:
                    say(f"{label} warning: the ceiling answers differently: {mismatches}")
                rows = [
                    _scenario(scenario, targets, servers, database, options, wrk, label)
                    for scenario in options.selected
                ]
                log_errors = {
                    name: _log_errors(server.log_path) for name, server in servers.items()
                }
            schema = CEILING_SCHEMA.search(ceiling.log_path.read_text(errors="replace"))
            database_version = databases.server_version(backend)
        finally:
            database.drop()
            if options.redis is not None:
                _forget_keys(options.redis, f"broadsheet-bench-{database.name}")
    _compare(rows)
    return {
        "date": datetime.date.today().isoformat(),
        "backend": backend,
        "articles": articles,
        "settings": {
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "connections": options.connections,
            "threads": min(options.threads, options.connections),
            "workers": options.workers,
            "repeat": options.repeat,
            "quiet_threshold_percent": options.quiet_threshold,
            "users": options.users,
            "cache_redis": options.redis is not None,
            "granian": options.granian,
        },
        "machine": machine.machine(),
        "versions": machine.versions(wrk),
        "database_version": database_version,
        "server_options": {**server_options, "resolved": machine.resolved(server_options)},
        "ceiling_schema": schema.group(1) if schema else "unknown",
        "ceiling_mismatches": mismatches,
        "setup_seconds": {"upgrade": round(upgrade, 1), "seed": round(seed, 1)},
        "targets": targets.summary(),
        "server_log_errors": log_errors,
        "scenarios": rows,
    }


def _ceiling_mismatches(broadsheet_url: str, ceiling_url: str, targets: Targets) -> list[str]:
    """The reads whose anonymous answer differs between Broadsheet and the ceiling: none,
    or the ceiling does not do the same work."""
    paths = ["/api/articles", f"/api/articles/{targets.slug}", "/api/tags"]
    return [
        path
        for path in paths
        if api.request(broadsheet_url, "GET", path).json()
        != api.request(ceiling_url, "GET", path).json()
    ]


def _forget_keys(redis_url: str, prefix: str) -> None:
    with redis.Redis.from_url(redis_url) as client:
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)


def _log_errors(path: Path) -> list[str]:
    words = ("Traceback", "ERROR", "CRITICAL")
    lines = path.read_text(errors="replace").splitlines()
    return [line[:200] for line in lines if any(word in line for word in words)][:5]


def _scenario(
    scenario: Scenario,
    targets: Targets,
    servers: dict[str, Server],
    database: databases.Database,
    options: argparse.Namespace,
    wrk: str,
    label: str,
) -> dict[str, Any]:
    server = servers[scenario.server]
    path = targets.path(scenario)
    tokens = targets.tokens(scenario)
    work = load.Load(
        url=server.url + path,
        script=scenario.script,
        method=scenario.method,
        path=path,
        tokens=tokens,
        body=scenario.body,
        slugs=tuple(targets.favorite_slugs),
        tag=targets.tag,
        run_id=targets.run_id,
    )

    def wrk_run(seconds: int) -> subprocess.Popen[str]:
        return load.start(
            wrk,
            work,
            seconds=seconds,
            connections=options.connections,
            threads=options.threads,
            timeout=options.timeout,
        )

    settled = _settle(list(servers.values()))
    if settled > 2:
        say(
            f"{label} {scenario.key}: waited {settled:.0f} s for the servers to finish earlier work"
        )
    if options.warmup:
        load.finish(wrk_run(options.warmup))
        settled += _settle(list(servers.values()))
    probe = api.request(
        server.url,
        scenario.method,
        path,
        token=tokens[0] if tokens else None,
        body=scenarios.probe_body(scenario, targets),
    )
    timing = parse_server_timing(probe.headers.get("Server-Timing"))
    items, total = _page_size(probe)
    if items == 0:
        say(f"{label} warning: {scenario.key} answers an empty list; its figures flatter it")

    attempts: list[tuple[load.WrkResult, monitor.Usage]] = []
    while len(attempts) < options.repeat:
        settled += _settle(list(servers.values()))
        process = wrk_run(options.duration)
        groups = _ours(servers, database, wrk=psutil.Process(process.pid))
        with monitor.Monitor(groups, server.worker_processes) as watch:
            figures = load.finish(process)
        attempts.append((figures, watch.usage))
        busy = watch.usage.unrelated_percent
        if busy <= options.quiet_threshold:
            break
        if len(attempts) < options.repeat:
            say(f"{label} {scenario.key}: other processes took {busy:.0f}% of the CPU; again")
    figures, usage = min(attempts, key=lambda attempt: attempt[1].unrelated_percent)
    rss = [round(size / 2**20, 1) for _, size in sorted(usage.worker_rss.items())]
    say(
        f"{label} {scenario.key}: {figures.requests_per_second:,.0f} req/s, "
        f"p50 {figures.p50_ms:.2f} ms, p99 {figures.p99_ms:.2f} ms, errors {figures.errors}, "
        f"statements {timing.statements if timing.statements is not None else 'n/a'}, "
        f"other CPU {usage.unrelated_percent:.0f}%"
        + (" (noisy)" if usage.unrelated_percent > options.quiet_threshold else "")
    )
    return {
        "scenario": scenario.key,
        "title": scenario.title,
        "server": scenario.server,
        "request": f"{scenario.method} {path}",
        "requests_per_second": round(figures.requests_per_second, 1),
        "p50_ms": round(figures.p50_ms, 3),
        "p90_ms": round(figures.p90_ms, 3),
        "p99_ms": round(figures.p99_ms, 3),
        "requests": figures.requests,
        "errors": figures.errors,
        "non_2xx": figures.non_2xx,
        "error_detail": figures.error_detail,
        "probe": {
            "status": probe.status,
            "expected_status": scenario.status,
            "statements": timing.statements,
            "unit": timing.unit,
            "db_ms": timing.db_ms,
            "app_ms": timing.app_ms,
            "items": items,
            "total": total,
        },
        "cpu": {
            "unrelated_percent": round(usage.unrelated_percent, 1),
            "server_cores": round(usage.cores_used(scenario.server), 2),
            "database_cores": round(usage.cores_used("database"), 2),
            "wrk_cores": round(usage.cores_used("wrk"), 2),
        },
        "noisy": usage.unrelated_percent > options.quiet_threshold,
        "settled_s": round(settled, 1),  # waiting for idle servers, over every step
        "attempts": [round(u.unrelated_percent, 1) for _, u in attempts],
        "rss_mb": {"max": max(rss, default=None), "per_worker": rss},
        "ceiling": scenario.ceiling,
        "versus_static": scenario.versus_static,
        "versus": {},
    }


def _settle(servers: list[Server], *, idle_cores: float = 0.05, limit: float = 120) -> float:
    """Wait until the servers are idle: requests wrk gave up on at the end of a run may
    still be working (a queue of Argon2 hashes after login, writes holding SQLite's lock),
    and would slow the next scenario down. Returns the seconds waited."""

    def spent() -> float:
        total = 0.0
        for server in servers:
            for process in server.processes():
                try:
                    times = process.cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += times.user + times.system
        return total

    started = time.monotonic()
    before = spent()
    while time.monotonic() - started < limit:
        time.sleep(SETTLE_SECONDS)
        now = spent()
        if now - before < idle_cores * SETTLE_SECONDS:
            break
        before = now
    return time.monotonic() - started


def _page_size(response: api.Response) -> tuple[int | None, int | None]:
    """How many articles, comments or tags a list answered, and its articlesCount."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    for key in ("articles", "comments", "tags"):
        if isinstance(body.get(key), list):
            total = body.get("articlesCount")
            return len(body[key]), total if isinstance(total, int) else None
    return None, None


def _ours(
    servers: dict[str, Server], database: databases.Database, *, wrk: psutil.Process
) -> monitor.Groups:
    """The processes this run needs, by group, looked up afresh at every sample."""

    def groups() -> dict[str, list[psutil.Process]]:
        return {
            **{name: server.processes() for name, server in servers.items()},
            "database": monitor.database_processes(database.backend, database.name),
            "redis": monitor.redis_processes() if "cached" in servers else [],
            "wrk": [wrk],
        }

    return groups


def _compare(rows: list[dict[str, Any]]) -> None:
    """Each Broadsheet scenario's req/s over its ceiling's (and the static JSON's)."""
    throughput = {row["scenario"]: row["requests_per_second"] for row in rows}

    def ratio(row: dict[str, Any], ceiling: str) -> float | None:
        measured = throughput.get(ceiling)
        return round(row["requests_per_second"] / measured, 3) if measured else None

    for row in rows:
        versus: dict[str, Any] = {}
        if row["ceiling"] is not None:
            versus = {"ceiling_scenario": row["ceiling"], "ceiling": ratio(row, row["ceiling"])}
        if row["versus_static"]:
            versus["static"] = ratio(row, "ceiling-static")
        row["versus"] = versus
        del row["ceiling"], row["versus_static"]
