"""The side-by-side comparisons run at a tiny scale: every way they compare gives the same
answer (the encoders the same page, the drivers the same use cases) and is measured."""

from __future__ import annotations

import re

import pytest

from bench import drivers, encoding


def _rows(output: str) -> dict[str, list[str]]:
    rows = [line.strip("|").split("|") for line in output.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [cell.strip() for cell in cells[1:]] for cells in rows[1:]}


def test_every_encoding_writes_the_same_page_and_is_timed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert encoding.main(["--rounds", "1", "--calls", "3"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert set(rows) == set(encoding.encoders(encoding.sample_page()))
    assert rows["pydantic, as served"][1] == "1.00x"
    for name, (per_page, _) in rows.items():
        assert float(per_page) > 0, name


def test_both_drivers_serve_the_same_reads(capsys: pytest.CaptureFixture[str]) -> None:
    assert drivers.main(["--articles", "40", "--rounds", "1", "--calls", "8", "--tasks", "4"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert list(rows) == ["list, anonymous", "list by tag", "one article", "tags"]
    for name, (asyncpg_rate, psycopg_rate, ratio) in rows.items():
        assert float(asyncpg_rate.replace(",", "")) > 0, name
        assert float(psycopg_rate.replace(",", "")) > 0, name
        assert re.fullmatch(r"\d+\.\d\dx", ratio), name
