"""Whole-server security batteries. ``figures`` collects what a battery measured; the lines
are printed in pytest's summary at the end of the run (no ``-s`` needed)."""

from __future__ import annotations

import pytest

_FIGURES: list[str] = []


@pytest.fixture
def figures() -> list[str]:
    """Append one line per measurement."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("security figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
