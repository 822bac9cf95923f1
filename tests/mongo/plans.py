"""The plan of every list's commands: ``python -m tests.mongo.plans [MONGODB_URL] [--json]``.

Seeds the reading list (``tests/reading_list.py``: 30 articles by three authors, a reader who
follows two of them and favorited half) through the API into a new database, sends each list
request with a command listener on the app's own client, and runs each list command it saw
through ``explain`` (``executionStats``): the pipeline as sent, the plan's stages and index,
and what was examined. Without a URL it starts SecantusDB for the run; the database is
dropped at the end. ``tests/mongo/test_plans.py`` checks the same plans. The analytics'
pipelines (``ANALYTICS``) are printed after them, and checked by
``tests/mongo/test_analytics.py``.

What SecantusDB's ``explain`` gives: the plan of a pipeline's leading ``$match`` (COLLSCAN, or
IXSCAN naming the index) and of a ``find``; not a ``$sort`` folded into the index scan (it
lists ``$sort`` as a stage of its own and sorts in memory), nor anything inside ``$lookup``
or ``$unionWith``. It reads every match before it sorts, skips and limits, so its examined
counts are every match, not the page: on SecantusDB this proves which index a list starts
from, never that the walk stops after the page. That needs a real MongoDB (pass its URL).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

import broadsheet.storage.mongo
from broadsheet.settings import Settings
from broadsheet.storage.mongo import MongoStorage
from broadsheet.web.app import create_app
from tests import reading_list

Database = AsyncDatabase[dict[str, Any]]

# (what, path, signed in, the index its page command should start from)
LISTS: list[tuple[str, str, bool, str | None]] = [
    ("all", "/articles?limit=20", False, "created_at_-1__id_-1"),
    ("tag", "/articles?tag=tag1", False, "tags_1_created_at_-1__id_-1"),
    ("author", "/articles?author=ann", False, "author_id_1_created_at_-1__id_-1"),
    ("favorited", "/articles?favorited=reader", False,
     "user_id_1_article_created_at_-1_article_id_-1"),
    ("feed", "/articles/feed?limit=20", True, "author_id_1_created_at_-1__id_-1"),
    ("tag and author", "/articles?tag=tag1&author=ann", False, None),  # the planner's choice
    ("author and favorited", "/articles?author=ann&favorited=reader", False,
     "user_id_1_article_created_at_-1_article_id_-1"),
    ("signed in, all", "/articles?limit=20", True, "created_at_-1__id_-1"),
    ("popular tags", "/tags", False, "articles_count_-1__id_1"),
]  # fmt: skip
# The same for the analytics (each one pipeline); the reading list is all in their window.
ANALYTICS: list[tuple[str, str, bool, str | None]] = [
    ("tag trends", "/analytics/tags", False, "created_at_-1__id_-1"),
    ("trending", "/analytics/trending", True, "favorited_at_1_article_id_1_article_created_at_1"),
    ("author stats", "/profiles/ann/stats", True, "username_key_1"),
]
# What a command's document carries besides the query itself.
_DRIVER_FIELDS = {"$db", "lsid", "$clusterTime", "$readPreference", "txnNumber", "batchSize"}


class Commands(monitoring.CommandListener):
    """The commands started while :meth:`recording` is open, as sent."""

    def __init__(self) -> None:
        self._current: list[dict[str, Any]] | None = None

    @contextmanager
    def recording(self) -> Iterator[list[dict[str, Any]]]:
        seen: list[dict[str, Any]] = []
        self._current = seen
        try:
            yield seen
        finally:
            self._current = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self._current is not None:
            self._current.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def is_list_command(command: dict[str, Any]) -> bool:
    """Not the token check (revoked_tokens) nor the viewer lookup (users by ``_id``)."""
    name = next(iter(command))
    if name not in {"aggregate", "find"}:
        return False
    return not (
        command[name] == "revoked_tokens"
        or (command[name] == "users" and "_id" in command.get("filter", {}))
    )


@dataclass
class ListPlan:
    what: str
    path: str
    signed_in: bool
    expected_index: str | None
    commands: list[dict[str, Any]] = field(default_factory=list)
    explained: list[dict[str, Any]] = field(default_factory=list)


async def explain(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    query = {key: value for key, value in command.items() if key not in _DRIVER_FIELDS}
    if "aggregate" in query:
        query["cursor"] = {}
    return await db.command("explain", query, verbosity="executionStats")


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every plan node (a document with a ``stage``) anywhere in an explain reply."""
    if isinstance(tree, dict):
        if isinstance(tree.get("stage"), str):
            yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def indexes_used(explained: dict[str, Any]) -> set[str]:
    winning = [explained.get("queryPlanner", {}).get("winningPlan", {})]
    winning += [
        stage["$cursor"]["queryPlanner"]["winningPlan"]
        for stage in explained.get("stages", [])
        if "$cursor" in stage
    ]
    return {node["indexName"] for node in _nodes(winning) if node["stage"] == "IXSCAN"}


def summary(command: dict[str, Any], explained: dict[str, Any]) -> list[str]:
    name = next(iter(command))
    lines = [f"{name} {command[name]}:"]
    if name == "aggregate":
        lines += [f"    {json.dumps(stage, default=str)}" for stage in command["pipeline"]]
    else:
        query = {k: command[k] for k in ("filter", "sort", "projection", "limit") if k in command}
        lines.append(f"    {json.dumps(query, default=str)}")
    if "hint" in command:
        lines.append(f"  hint: {json.dumps(command['hint'])}")
    planner = explained.get("queryPlanner") or {}
    plan = [
        f"{node['stage']} {node['indexName']}" if node["stage"] == "IXSCAN" else node["stage"]
        for node in _nodes(planner.get("winningPlan", {}))
    ]
    stages = [next(iter(stage)) for stage in explained.get("stages", [])]
    lines.append(f"  plan: {' <- '.join(plan) or '?'}")
    if stages:
        lines.append(f"  stages: {', '.join(stages)}")
    stats = explained.get("executionStats") or {}
    if stats:
        lines.append(
            f"  examined: {stats.get('totalKeysExamined')} keys, "
            f"{stats.get('totalDocsExamined')} documents; "
            f"the scan returned {stats.get('nReturned')}"
        )
    return lines


async def collect(
    client: httpx.AsyncClient,
    commands: Commands,
    db: Database,
    reader: dict[str, str],
    requests: list[tuple[str, str, bool, str | None]] = LISTS,
) -> list[ListPlan]:
    """Each of ``requests`` (the lists, unless told) sent once; its list commands and their
    explain."""
    plans = []
    for what, path, signed_in, expected_index in requests:
        with commands.recording() as seen:
            response = await client.get(path, headers=reader if signed_in else {})
        assert response.status_code == 200, response.text
        plan = ListPlan(what, path, signed_in, expected_index)
        plan.commands = [command for command in seen if is_list_command(command)]
        plan.explained = [await explain(db, command) for command in plan.commands]
        plans.append(plan)
    return plans


@asynccontextmanager
async def seeded(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Commands, Database, Any]]:
    """The app over ``url`` with a listener on its client, and the reading list in it."""
    commands = Commands()
    with pytest.MonkeyPatch.context() as patch:
        # The storage builds its client itself, so the listener goes in where it is built.
        patch.setattr(
            broadsheet.storage.mongo,
            "AsyncMongoClient",
            functools.partial(AsyncMongoClient, event_listeners=[commands]),
        )
        settings = Settings(
            database_url=url,
            secret_key="plans-secret-key-0123456789abcdef",
            auto_migrate=True,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            rate_limits=False,
        )
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            storage = application.state.broadsheet.storage
            assert isinstance(storage, MongoStorage)
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as http:
                reader = await reading_list.seed(http)
                yield http, commands, storage.database, reader


async def _main(server_url: str, *, as_json: bool) -> None:
    name = f"broadsheet_plans_{uuid.uuid4().hex[:12]}"
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        async with seeded(url) as (http, commands, db, reader):
            plans = await collect(http, commands, db, reader, [*LISTS, *ANALYTICS])
    finally:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server_url)
        await client.drop_database(name)
        await client.close()
    lines = []
    for plan in plans:
        who = "signed in" if plan.signed_in else "anonymous"
        lines.append(f"### {plan.what}: GET /api{plan.path} ({who})")
        for command, explained in zip(plan.commands, plan.explained, strict=True):
            if as_json:
                lines.append(json.dumps(explained.get("queryPlanner"), default=str, indent=1))
            lines += summary(command, explained)
        lines.append("")
    sys.stdout.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="a MongoDB server (default: start SecantusDB)")
    parser.add_argument("--json", action="store_true", help="print each plan in full too")
    arguments = parser.parse_args()
    if arguments.url:
        asyncio.run(_main(arguments.url, as_json=arguments.json))
        return
    from tests.mongo_server import MongoServer

    server = MongoServer()
    with tempfile.TemporaryDirectory() as workdir:
        try:
            asyncio.run(_main(server.url(Path(workdir)), as_json=arguments.json))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
