"""``BROADSHEET_SERVER_TIMING``: every response says how many statements (MongoDB: commands)
its request sent, how long they took, and how long the application took.

The counts are checked against the statement and command budgets (``tests/sql``,
``tests/mongo``) and, on SQL, against a second listener counting at the engine, so a tally that
did not reach the driver hooks (a context that did not propagate) would show as a wrong count.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from broadsheet.settings import Settings
from broadsheet.storage.mongo import MongoStorage
from broadsheet.storage.mongo.tally import CommandTally
from broadsheet.storage.sql import SqlStorage
from broadsheet.web.app import create_app
from tests import databases, reading_list
from tests.mongo.test_command_budget import ANONYMOUS_PAGE, SIGNED_IN_PAGE

HEADER = re.compile(
    r'db;dur=(?P<db>\d+\.\d{3});desc="(?P<count>\d+) (?P<unit>statements|commands)", '
    r"app;dur=(?P<app>\d+\.\d{3})"
)
# tests/sql/test_statement_budget.py: an anonymous page is the page (with its total) and its
# tags; signed in, the token check and the viewer lookup come first.
SQL_ANONYMOUS_PAGE = 2
SQL_SIGNED_IN_PAGE = 4


def timing(response: httpx.Response) -> dict[str, Any]:
    match = HEADER.fullmatch(response.headers.get("server-timing", ""))
    assert match is not None, response.headers.get("server-timing")
    return {
        "count": int(match["count"]),
        "unit": match["unit"],
        "db": float(match["db"]),
        "app": float(match["app"]),
    }


@pytest.fixture
def timed_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"server_timing": True})


@pytest.fixture
async def app(timed_settings: Settings) -> AsyncIterator[FastAPI]:
    await databases.empty_at(timed_settings.database_url)
    application = create_app(timed_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def reader(client: httpx.AsyncClient) -> dict[str, str]:
    return await reading_list.seed(client)


@contextmanager
def engine_count(app: FastAPI) -> Iterator[list[str]]:
    """What the statement budget counts: every statement but SQLite's opening ``BEGIN``."""
    storage = app.state.broadsheet.storage
    statements: list[str] = []
    if not isinstance(storage, SqlStorage):
        yield statements
        return

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    event.listen(storage.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(storage.engine.sync_engine, "before_cursor_execute", record)


def expected_count(backend: str, *, signed_in: bool) -> int:
    if backend.startswith("mongodb"):
        return len(SIGNED_IN_PAGE if signed_in else ANONYMOUS_PAGE)
    if backend == "memory":
        return 0
    return SQL_SIGNED_IN_PAGE if signed_in else SQL_ANONYMOUS_PAGE


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_a_list_page_reports_the_budgeted_count(
    app: FastAPI,
    client: httpx.AsyncClient,
    reader: dict[str, str],
    backend: str,
    signed_in: bool,
) -> None:
    with engine_count(app) as statements:
        response = await client.get("/articles?limit=20", headers=reader if signed_in else {})

    assert response.status_code == 200
    assert len(response.json()["articles"]) == 20
    reported = timing(response)
    assert reported["count"] == expected_count(backend, signed_in=signed_in)
    if backend not in {"memory"} and not backend.startswith("mongodb"):
        assert reported["count"] == len(statements), statements
    assert reported["unit"] == ("commands" if backend.startswith("mongodb") else "statements")
    assert (reported["db"] > 0) is (reported["count"] > 0)
    assert reported["app"] >= reported["db"]


async def test_concurrent_requests_keep_their_own_tallies(
    client: httpx.AsyncClient, reader: dict[str, str], backend: str
) -> None:
    requests = [client.get("/articles?limit=20", headers=reader if n % 2 else {}) for n in range(6)]
    responses = await asyncio.gather(*requests)

    counts = [timing(response)["count"] for response in responses]
    anonymous = expected_count(backend, signed_in=False)
    signed_in = expected_count(backend, signed_in=True)
    assert counts == [anonymous, signed_in] * 3


@pytest.mark.parametrize(
    ("path", "status"),
    [("/articles/no-such-article", 404), ("/articles?limit=0", 422), ("/articles/feed", 401)],
)
async def test_an_error_response_carries_it_too(
    app: FastAPI, client: httpx.AsyncClient, path: str, status: int
) -> None:
    with engine_count(app) as statements:
        response = await client.get(path)

    assert response.status_code == status
    reported = timing(response)
    if isinstance(app.state.broadsheet.storage, SqlStorage):
        assert reported["count"] == len(statements), statements
    if status == 401:
        assert reported["count"] == 0  # refused before any use case ran


async def test_a_preflight_carries_it(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/articles",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )

    assert response.status_code == 200
    assert timing(response)["count"] == 0


async def test_off_there_is_no_header_and_no_hook(settings: Settings) -> None:
    assert settings.server_timing is False  # the default
    await databases.empty_at(settings.database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as client:
            response = await client.get("/articles")
        storage = application.state.broadsheet.storage
        if isinstance(storage, SqlStorage):
            dispatch = storage.engine.sync_engine.dispatch
            assert not dispatch.before_cursor_execute
            assert not dispatch.after_cursor_execute
        if isinstance(storage, MongoStorage):
            assert not list(storage.client.options.event_listeners)

    assert response.status_code == 200
    assert "server-timing" not in response.headers


async def test_on_the_hooks_are_registered(app: FastAPI) -> None:
    storage = app.state.broadsheet.storage
    if isinstance(storage, SqlStorage):
        assert storage.engine.sync_engine.dispatch.before_cursor_execute
    if isinstance(storage, MongoStorage):
        listeners: list[object] = list(storage.client.options.event_listeners)
        assert any(isinstance(listener, CommandTally) for listener in listeners)
