"""A list page costs a fixed, small number of SQL statements, whatever its size (no N+1).

Counted at the engine: every statement the driver executes while the request runs, except
the SQLite ``BEGIN IMMEDIATE`` that opens the transaction (transaction control, not a query).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from broadsheet.settings import Settings
from broadsheet.storage.sql import SqlStorage
from broadsheet.web.app import create_app
from tests import databases, reading_list
from tests.conftest import with_redis

# Every signed-in request first asks whether its token was revoked: one primary-key SELECT
# (none where Redis keeps the list; see the last test).
TOKEN_CHECK = 1
BUDGET = TOKEN_CHECK + 3  # token check + viewer lookup + page (with the total) + the page's tags


@contextmanager
def counting(app: FastAPI) -> Iterator[list[str]]:
    storage = app.state.broadsheet.storage
    assert isinstance(storage, SqlStorage)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    event.listen(storage.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(storage.engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def reader(client: httpx.AsyncClient) -> dict[str, str]:
    return await reading_list.seed(client)


@pytest.mark.parametrize(
    "path",
    [
        "/articles?limit=20",
        "/articles?limit=100",
        "/articles?limit=5&offset=10",
        "/articles?tag=common&limit=20",
        "/articles?author=ann",
        "/articles?favorited=reader",
        "/articles/feed?limit=20",
        "/articles?offset=500",
    ],
)
async def test_a_list_page_costs_at_most_four_statements(
    app: FastAPI, client: httpx.AsyncClient, reader: dict[str, str], path: str
) -> None:
    with counting(app) as statements:
        response = await client.get(path, headers=reader)

    assert response.status_code == 200
    body = response.json()
    assert body["articlesCount"] > 0
    assert all(item["tagList"] and "favorited" in item for item in body["articles"])
    assert len(statements) <= BUDGET, statements


async def test_the_statement_count_does_not_grow_with_the_page(
    app: FastAPI, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    counts = []
    for limit in (1, 10, 30):
        with counting(app) as statements:
            response = await client.get(f"/articles?limit={limit}", headers=reader)
        assert len(response.json()["articles"]) == limit
        counts.append(len(statements))

    assert counts[0] == counts[1] == counts[2]


async def test_anonymous_page_needs_no_viewer_lookup(
    app: FastAPI, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    with counting(app) as statements:
        response = await client.get("/articles?limit=20")

    assert response.status_code == 200
    assert len(statements) == 2, statements  # page with total, then tags


async def test_the_token_check_is_one_lookup_of_revoked_tokens(
    app: FastAPI, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    with counting(app) as statements:
        response = await client.get("/articles?limit=20", headers=reader)

    assert response.status_code == 200
    assert "FROM revoked_token" in statements[0], statements


async def test_with_redis_the_token_check_leaves_the_database(
    settings: Settings, redis_prefix: str
) -> None:
    redis_settings = with_redis(settings, redis_prefix)
    await databases.empty_at(redis_settings.database_url)
    application = create_app(redis_settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as client:
            reader = await reading_list.seed(client)
            with counting(application) as statements:
                response = await client.get("/articles?limit=20", headers=reader)

    assert response.status_code == 200
    assert len(statements) == 3, statements  # viewer, page with total, tags
