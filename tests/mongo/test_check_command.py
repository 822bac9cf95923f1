"""``broadsheet db check`` on MongoDB: a counter left behind (as a crash between a favorite
and its ``$inc`` would leave it) is reported, then recounted with ``--repair``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pymongo
import pytest
from pymongo.database import Database as PyMongoDatabase
from typer.testing import CliRunner

from broadsheet.cli import app
from tests.conftest import BACKENDS

runner = CliRunner()
Database = PyMongoDatabase[dict[str, Any]]


@pytest.fixture(params=[b for b in BACKENDS if b.startswith("mongodb")])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, database_urls: dict[str, str]) -> Iterator[tuple[str, Database]]:
    url = database_urls[backend]
    parts = urlsplit(url)
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(urlunsplit(parts._replace(path="/", query=""))) as client:
        db: Database = client[parts.path.strip("/")]
        for name in ("users", "articles", "favorites", "comments", "follows", "tags", "totals"):
            db[name].delete_many({})
        yield url, db


def test_a_counter_left_behind_is_reported_then_recounted(
    database: tuple[str, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, db = database
    monkeypatch.setenv("DATABASE_URL", url)
    now = datetime.now(UTC)
    db.users.insert_one({"_id": 1, "username": "ann", "username_key": "ann",
                         "email": "ann@example.com", "password_hash": "h",
                         "articles_count": 1, "favorites_count": 1})  # fmt: skip
    db.articles.insert_one({"_id": 7, "slug": "hot", "title": "Hot", "description": "d",
                            "body": "b", "tags": [], "author_id": 1, "created_at": now,
                            "updated_at": now, "favorites_count": 0})  # fmt: skip
    db.totals.insert_one({"_id": "articles", "count": 1})
    # The article's $inc never happened (the user's did).
    db.favorites.insert_one(
        {"user_id": 1, "article_id": 7, "article_created_at": now, "favorited_at": now}
    )

    found = runner.invoke(app, ["db", "check"])

    assert found.exit_code == 1, found.output
    assert found.output.splitlines()[0] == "favorites_count: article 7 (hot) says 0, has 1"
    repaired = runner.invoke(app, ["db", "check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "favorites_count: article 7 (hot) says 0, has 1 (repaired)" in repaired.output
    stored = db.articles.find_one({"_id": 7})
    assert stored is not None
    assert stored["favorites_count"] == 1
    clean = runner.invoke(app, ["db", "check"])
    assert (clean.exit_code, clean.output) == (0, "No drift or dangling references found.\n")
