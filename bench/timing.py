"""Reading a ``Server-Timing`` header: the statements (or commands) one request issued, and
the time spent in the database and in the whole app.

Broadsheet sends ``db;dur=<ms>;desc="<n> statements"`` (or ``"<n> commands"`` on MongoDB)
and ``app;dur=<ms>`` when ``BROADSHEET_SERVER_TIMING=1``. The parse is defensive: anything
missing or malformed is None (shown as "n/a"), never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COUNT = re.compile(r"(\d+)\s*(statement|command|quer(?:y|ies))", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ServerTiming:
    statements: int | None = None
    unit: str | None = None  # "statements" or "commands"
    db_ms: float | None = None
    app_ms: float | None = None


def _split(header: str, separator: str) -> list[str]:
    """Split at ``separator`` outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in header:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _metrics(header: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for metric in _split(header, ","):
        name, *parameters = _split(metric, ";")
        values: dict[str, str] = {}
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            values[key.strip().lower()] = value
        found.setdefault(name.lower(), values)
    return found


def _milliseconds(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def parse_server_timing(header: str | None) -> ServerTiming:
    if not header:
        return ServerTiming()
    metrics = _metrics(header)
    database = metrics.get("db", {})
    count = _COUNT.search(database.get("desc", ""))
    unit = None
    if count is not None:
        unit = "commands" if count.group(2).lower().startswith("command") else "statements"
    return ServerTiming(
        statements=int(count.group(1)) if count else None,
        unit=unit,
        db_ms=_milliseconds(database.get("dur")),
        app_ms=_milliseconds(metrics.get("app", {}).get("dur")),
    )
