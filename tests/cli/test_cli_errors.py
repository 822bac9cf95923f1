"""The ``broadsheet`` command when things are wrong: one clear line and exit code 2.

Unreachable databases, bad URLs, unknown revisions and unready schemas used to print
hundreds of lines of traceback; a destructive downgrade used to run without asking.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from broadsheet.cli import app
from broadsheet.storage.sql import migrations

runner = CliRunner()
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BROADSHEET_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("BROADSHEET_ARGON2_TIME_COST", "1")
    return url


def _fails_in_one_line(result: Result, *expected: str) -> str:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    for words in expected:
        assert words in lines[0]
    return lines[0]


def _current(database: str) -> str:
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_downgrade_minus_one_steps_back_one_revision(database: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    result = runner.invoke(app, ["db", "downgrade", "-1", "--yes"])

    assert result.exit_code == 0, result.output
    before_head = migrations.scripts().get_revision(migrations.head()).down_revision
    assert _current(database) == before_head


def test_downgrade_to_base_says_what_is_lost_and_asks(database: str) -> None:
    seeded = runner.invoke(app, ["seed", "--users", "3", "--articles", "2"])
    assert seeded.exit_code == 0, seeded.output
    head = _current(database)

    refused = runner.invoke(app, ["db", "downgrade", "base"], input="n\n")

    assert refused.exit_code != 0
    assert "3 users, 2 articles" in refused.output
    assert "Continue?" in refused.output
    assert _current(database) == head  # nothing dropped

    confirmed = runner.invoke(app, ["db", "downgrade", "base"], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert _current(database) == "none (empty database)"


def test_downgrade_without_a_terminal_needs_yes(database: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    head = _current(database)

    result = runner.invoke(app, ["db", "downgrade", "base"])  # no input: like a script

    assert result.exit_code != 0
    assert _current(database) == head


@pytest.mark.parametrize(
    "command", [["db", "current"], ["db", "upgrade"], ["db", "downgrade", "-1"], ["seed"]]
)
def test_an_unreachable_database_is_one_line(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)

    result = runner.invoke(app, command)

    _fails_in_one_line(result, "cannot reach the database at postgresql", "127.0.0.1:1")


@pytest.mark.parametrize(
    "url",
    [
        "oracle://scott@tiger/db",
        "postgresql://postgres@127.0.0.1:notaport/db",
        "postgresql+nosuchdriver://postgres@127.0.0.1/db",
        "mongodb://127.0.0.1/db?broadsheet_transactions=maybe",
        "mongodb://127.0.0.1:notaport/db",
    ],
)
def test_a_bad_url_is_one_line(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    _fails_in_one_line(runner.invoke(app, ["db", "upgrade"]))


def test_an_unknown_revision_is_one_line(database: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    _fails_in_one_line(runner.invoke(app, ["db", "upgrade", "nosuchrev"]), "nosuchrev")
    _fails_in_one_line(runner.invoke(app, ["db", "downgrade", "nosuchrev", "--yes"]), "nosuchrev")


def test_an_invalid_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_DB_CONNECT_TIMEOUT_SECONDS", "soon")

    _fails_in_one_line(runner.invoke(app, ["db", "current"]), "db_connect_timeout_seconds")


def test_serve_refuses_an_unmigrated_database(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_AUTO_MIGRATE", "false")

    _fails_in_one_line(runner.invoke(app, ["serve"]), "schema is missing", "broadsheet db upgrade")


def test_serve_refuses_a_schema_that_is_behind(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["db", "upgrade", migrations.INITIAL_REVISION]).exit_code == 0
    monkeypatch.setenv("BROADSHEET_AUTO_MIGRATE", "false")

    _fails_in_one_line(runner.invoke(app, ["serve"]), "schema is behind", "broadsheet db upgrade")


def test_serve_refuses_an_unreachable_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)

    _fails_in_one_line(runner.invoke(app, ["serve"]), "cannot reach the database")


def test_serve_refuses_several_workers_on_the_memory_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "memory://")

    _fails_in_one_line(runner.invoke(app, ["serve", "--workers", "2"]), "--workers 1")


def test_a_real_process_prints_one_line_on_stderr(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "broadsheet", "db", "current"],
        env={"DATABASE_URL": UNREACHABLE, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "cannot reach the database" in result.stderr
