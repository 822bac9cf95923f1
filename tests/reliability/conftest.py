"""Whole-server batteries. ``figures`` collects the numbers a battery measured; they are
printed in pytest's summary at the end of the run (no ``-s`` needed)."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS

# Each battery is collected only when a backend it runs on is selected.
collect_ignore = [
    *(["test_outage.py"] if not {"postgresql", "mariadb", "mongodb"} & set(BACKENDS) else []),
    *(["test_sqlite_lock.py"] if "sqlite" not in BACKENDS else []),
    *(["test_signing_key.py"] if not set(BACKENDS) - {"memory", "mongodb-standalone"} else []),
]
_FIGURES: list[str] = []


@pytest.fixture
def figures() -> list[str]:
    """Append one line per measurement, e.g. ``figures.append("pg stall: 42 requests …")``."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
