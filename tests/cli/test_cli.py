"""The ``broadsheet`` command on a real SQLite file: schema management and the demo seed."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from broadsheet.cli import app
from broadsheet.domain.models import ArticleFilter, ArticleSummary, Page
from broadsheet.storage import open_storage
from broadsheet.storage.sql import SqlStorage

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BROADSHEET_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("BROADSHEET_ARGON2_TIME_COST", "1")
    return url


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


async def _newest_article(url: str) -> Page[ArticleSummary]:
    storage = open_storage(url)
    try:
        async with storage.unit_of_work() as uow:
            return await uow.articles.find(ArticleFilter(), viewer_id=None, limit=1, offset=0)
    finally:
        await storage.close()


def test_every_command_has_help() -> None:
    for command in (
        [],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["db", "current"],
        ["db", "check"],
        ["seed"],
    ):
        assert "Usage" in invoke(*command, "--help")


def test_upgrade_downgrade_and_current(database: str) -> None:
    assert "none" in invoke("db", "current")

    invoke("db", "upgrade")
    revision = invoke("db", "current").strip()
    assert revision != "none (empty database)"
    assert len(revision) == 12  # an Alembic revision id

    invoke("db", "downgrade", "base", "--yes")
    assert "none" in invoke("db", "current")


def test_seed_fills_an_empty_database_once(database: str) -> None:
    output = invoke("seed", "--users", "4", "--articles", "6")

    assert "Seeded 4 users and 6 articles" in output
    assert re.search(r"^  user_account +4$", output, re.MULTILINE), output
    assert re.search(r"^  article +6$", output, re.MULTILINE), output
    assert "No drift or dangling references found." in invoke("db", "check")
    page = asyncio.run(_newest_article(database))
    assert page.total == 6
    assert page.items[0].created_at <= datetime.now(UTC)  # spread over the past, not the future
    assert "nothing seeded" in invoke("seed", "--articles", "3")
    assert asyncio.run(_newest_article(database)).total == 6


def test_seed_refuses_a_database_with_users_in_one_line(database: str) -> None:
    invoke("db", "upgrade")
    with sqlite3.connect(database.removeprefix("sqlite:///")) as raw:
        raw.execute(
            "INSERT INTO user_account (username, username_key, email, password_hash) "
            "VALUES ('ann', 'ann', 'ann@example.com', 'h')"
        )
    raw.close()

    result = runner.invoke(app, ["seed"])

    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1
    assert "already has users or articles" in result.output


def test_the_same_seed_number_seeds_the_same_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slugs = []
    for name in ("one", "two"):
        url = f"sqlite:///{tmp_path / name}.db"
        monkeypatch.setenv("DATABASE_URL", url)
        invoke("seed", "--articles", "30", "--seed", "5")
        slugs.append([item.slug for item in asyncio.run(_newest_article(url)).items])
    assert slugs[0] == slugs[1] != []


def test_db_commands_name_the_sql_only_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "memory://")

    result = runner.invoke(app, ["db", "current"])

    assert result.exit_code == 2
    assert "SQL databases only" in result.output


def test_the_sql_adapter_is_what_sqlite_urls_open(database: str) -> None:
    assert isinstance(open_storage(database), SqlStorage)


def _leave_a_dangling_favorite(url: str) -> None:
    """Written with the sqlite3 module, which leaves foreign keys off: nothing else could."""
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        raw.execute(
            "INSERT INTO user_account (username, username_key, email, password_hash) "
            "VALUES ('ann', 'ann', 'ann@example.com', 'h')"
        )
        raw.execute(
            "INSERT INTO favorite (user_id, article_id, article_created_at, favorited_at) "
            "VALUES (1, 424242, '2026-12-01 12:00:00', '2026-12-01 12:00:00')"
        )
    raw.close()


def test_db_check_reports_then_repairs(database: str) -> None:
    invoke("db", "upgrade")
    assert "No drift or dangling references found." in invoke("db", "check")
    _leave_a_dangling_favorite(database)

    found = runner.invoke(app, ["db", "check"])

    assert found.exit_code == 1, found.output
    assert "orphan: 1 favorites of missing article 424242\n" in found.output
    assert "--repair" in found.output
    repaired = invoke("db", "check", "--repair")
    assert "orphan: 1 favorites of missing article 424242 (repaired)\n" in repaired
    assert "No drift or dangling references found." in invoke("db", "check")


def test_serve_hands_the_worker_health_check_timeout_to_uvicorn(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's 5 s default restarted workers that took longer to import on a busy host."""
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: started.append(options))
    monkeypatch.setenv("BROADSHEET_WORKER_HEALTHCHECK_TIMEOUT_SECONDS", "45")

    invoke("serve", "--workers", "2")

    assert started[0]["workers"] == 2
    assert started[0]["timeout_worker_healthcheck"] == 45


def test_serve_gives_workers_a_generous_health_check_timeout_by_default(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: started.append(options))

    invoke("serve", "--workers", "2")

    timeout = started[0]["timeout_worker_healthcheck"]
    assert isinstance(timeout, int)
    assert timeout >= 30


def test_serve_runs_uvloop_and_httptools_without_an_access_log_by_default(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: started.append(options))

    invoke("serve")

    assert (started[0]["loop"], started[0]["http"]) == ("uvloop", "httptools")
    assert started[0]["access_log"] is False


def test_serve_writes_the_access_log_when_asked(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: started.append(options))
    monkeypatch.setenv("BROADSHEET_ACCESS_LOG", "1")

    invoke("serve")

    assert started[0]["access_log"] is True


def test_serve_falls_back_to_asyncio_and_h11_where_they_are_missing(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on Windows, where uvloop does not install: importing it fails."""
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: started.append(options))
    monkeypatch.setitem(sys.modules, "uvloop", None)
    monkeypatch.setitem(sys.modules, "httptools", None)

    invoke("serve")

    assert (started[0]["loop"], started[0]["http"]) == ("asyncio", "h11")


async def _role_of(url: str, username: str) -> str | None:
    storage = open_storage(url)
    try:
        async with storage.unit_of_work() as uow:
            user = await uow.users.get_by_username(username)
    finally:
        await storage.close()
    assert user is not None
    return None if user.role is None else user.role.value


def test_users_grant_gives_and_takes_a_role(database: str) -> None:
    invoke("db", "upgrade")
    invoke("seed", "--articles", "3", "--users", "12")

    assert "ada is now an admin." in invoke("users", "grant", "ada", "admin")
    assert "ada is now a moderator." in invoke("users", "grant", "ada", "moderator")
    assert asyncio.run(_role_of(database, "ada")) == "moderator"
    assert "ada is now without a role." in invoke("users", "grant", "ada", "none")
    assert asyncio.run(_role_of(database, "ada")) is None

    unknown = runner.invoke(app, ["users", "grant", "nobody", "admin"])
    bad_role = runner.invoke(app, ["users", "grant", "ada", "king"])
    assert (unknown.exit_code, bad_role.exit_code) == (2, 2)
    assert "no user is named 'nobody'" in unknown.output
    assert "role: must be one of: admin, moderator, none" in bad_role.output
