"""The results files: ``<date>-<backend>-<articles>.json`` and a Markdown table beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write(result: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{result['date']}-{result['backend']}-{result['articles']}"
    json_path = directory / f"{stem}.json"
    markdown_path = directory / f"{stem}.md"
    json_path.write_text(to_json(result))
    markdown_path.write_text(markdown(result))
    return json_path, markdown_path


def to_json(result: dict[str, Any]) -> str:
    """Indented, but one line per scenario: small files whose diffs read row by row."""
    head = json.dumps({k: v for k, v in result.items() if k != "scenarios"}, indent=1)
    rows = ",\n  ".join(json.dumps(row, separators=(",", ":")) for row in result["scenarios"])
    return f'{head[:-2]},\n "scenarios": [\n  {rows}\n ]\n}}\n'


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(versus: dict[str, Any], key: str) -> str:
    ratio = versus.get(key)
    return "" if ratio is None else f"{ratio:.2f}x"


def _errors(row: dict[str, Any]) -> str:
    if not row["errors"]:
        return "0"
    detail = ", ".join(f"{name} {count}" for name, count in row["error_detail"].items())
    return f"**{row['errors']}** ({detail})"


def _statements(probe: dict[str, Any]) -> str:
    if probe.get("statements") is None:
        return "n/a"
    unit = " cmd" if probe.get("unit") == "commands" else ""
    return f"{probe['statements']}{unit}"


def markdown(result: dict[str, Any]) -> str:
    machine, versions, run = result["machine"], result["versions"], result["settings"]
    dependencies = ", ".join(f"{name} {v}" for name, v in versions["dependencies"].items())
    server = result["server_options"]
    lines = [
        f"# Broadsheet benchmark: {result['backend']}, {result['articles']:,} articles",
        "",
        f"{result['date']}. Made by `bench/run` (see bench/README.md); figures from one "
        "machine, comparable with each other, not with other machines.",
        "",
        f"- **Machine**: {machine['cpu']}, {machine['cores']} cores "
        f"({machine['physical_cores']} physical), {machine['ram_gib']} GiB RAM, "
        f"Linux {machine['kernel']}",
        f"- **Versions**: Python {versions['python']}, Broadsheet "
        f"`{versions['broadsheet_commit'][:12]}`, {result['backend']} "
        f"{result['database_version']}, {versions['wrk']}",
        f"- **Dependencies**: {dependencies}",
        f"- **Load**: wrk, {run['duration_s']} s per scenario after {run['warmup_s']} s of "
        f"warm-up, connections {run['connections']}, threads {run['threads']}; "
        f"workers per server {run['workers']} (uvicorn, loop {server['loop']}, "
        f"HTTP {server['http']}); up to {run['repeat']} runs while other processes took "
        f"more than {run['quiet_threshold_percent']}% of the CPU, the quietest kept",
        f"- **Data**: `broadsheet seed --articles {result['articles']}` "
        f"({result['setup_seconds']['seed']:.0f} s; `db upgrade` "
        f"{result['setup_seconds']['upgrade']:.0f} s); ceiling schema "
        f"`{result['ceiling_schema']}`; targets {_targets(result['targets'])}",
        "",
        "| scenario | req/s | p50 ms | p99 ms | errors | statements | db ms | x ceiling "
        "| x static | other CPU | worker RSS MB |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["scenarios"]:
        versus = row["versus"]
        ceiling = _ratio(versus, "ceiling")
        if ceiling:
            ceiling += f" {versus['ceiling_scenario'].removeprefix('ceiling-')}"
        noisy = " (noisy)" if row["noisy"] else ""
        rss = _number(row["rss_mb"]["max"], 0)
        lines.append(
            f"| {row['title']} | {_number(row['requests_per_second'], 0)} "
            f"| {_number(row['p50_ms'], 2)} | {_number(row['p99_ms'], 2)} | {_errors(row)} "
            f"| {_statements(row['probe'])} | {_number(row['probe'].get('db_ms'), 2)} "
            f"| {ceiling} | {_ratio(versus, 'static')} "
            f"| {row['cpu']['unrelated_percent']:.0f}%{noisy} | {rss} |"
        )
    lines += [
        "",
        "x ceiling: req/s over the ceiling's for the same kind of request (1.00x = as fast as "
        "one hand-written statement through the raw driver); x static: over a constant JSON "
        "body. Statements and db ms: one probe request's `Server-Timing`. Other CPU: CPU taken "
        "by unrelated processes during the kept run, as a share of the whole machine.",
        "",
    ]
    return "\n".join(lines)


def _targets(targets: dict[str, Any]) -> str:
    return (
        f"tag `{targets['tag']}`, author `{targets['author']}`, article `{targets['slug']}`, "
        f"reader `{targets['reader']}`"
    )
