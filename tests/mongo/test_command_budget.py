"""A read costs a fixed, small number of MongoDB commands, whatever the page size (no N+1).

Counted with PyMongo command monitoring: a ``CommandListener`` on the app's own client sees
every command the driver sends while the request runs. A list page is one ``aggregate``
(``$facet``: the page and the total, authors, following and favorited joined in), plus the
viewer lookup (``find``) when someone is signed in. Reads run outside any transaction, so no
transaction-control or session command may appear.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient, monitoring

import broadsheet.storage.mongo
from broadsheet.settings import Settings
from broadsheet.storage.mongo import MongoStorage
from broadsheet.web.app import create_app
from tests import databases, reading_list
from tests.conftest import BACKENDS, with_redis

MONGO_BACKENDS = [b for b in BACKENDS if b == "mongodb"]
# Every signed-in request first asks whether its token was revoked: one find by _id in
# revoked_tokens (none where Redis keeps the list; see the last test).
TOKEN_CHECK = ["find"]
BUDGET = 3  # token check + viewer lookup + one aggregate
SESSION_COMMANDS = {"startTransaction", "commitTransaction", "abortTransaction", "endSessions"}

SIGNED_IN_PAGE = [*TOKEN_CHECK, "find", "aggregate"]  # token, viewer, the page with its total
ANONYMOUS_PAGE = ["aggregate"]


class CommandLog(monitoring.CommandListener):
    """Names of the commands started while a :func:`counting` block is open."""

    def __init__(self) -> None:
        self._current: list[str] | None = None
        self.collections: list[str] = []  # what each command named, for every command seen

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        names: list[str] = []
        self._current = names
        try:
            yield names
        finally:
            self._current = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self._current is not None:
            self._current.append(event.command_name)
            self.collections.append(str(event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture(params=MONGO_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> CommandLog:
    """The storage builds its client itself, so the listener goes in where it is built."""
    log = CommandLog()
    monkeypatch.setattr(
        broadsheet.storage.mongo,
        "AsyncMongoClient",
        functools.partial(AsyncMongoClient, event_listeners=[log]),
    )
    return log


@pytest.fixture
async def app(settings: Settings, commands: CommandLog) -> AsyncIterator[FastAPI]:
    await databases.empty_at(settings.database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        storage = application.state.broadsheet.storage
        assert isinstance(storage, MongoStorage)
        # PyMongo types these as _EventListeners; they are the listeners passed in.
        listeners: list[object] = list(storage.client.options.event_listeners)
        assert commands in listeners
        yield application


@pytest.fixture
async def reader(client: httpx.AsyncClient) -> dict[str, str]:
    return await reading_list.seed(client)


@pytest.fixture
async def newest_slug(client: httpx.AsyncClient, reader: dict[str, str]) -> str:
    response = await client.get("/articles?limit=1")
    slug = response.json()["articles"][0]["slug"]
    assert isinstance(slug, str)
    return slug


@pytest.mark.parametrize(
    ("path", "expected_total"),
    [
        ("/articles?limit=20", 30),
        ("/articles?limit=100", 30),
        ("/articles?limit=5&offset=10", 30),
        ("/articles?tag=common&limit=20", 30),
        ("/articles?tag=tag1", 8),
        ("/articles?author=ann", 10),
        ("/articles?favorited=reader", 15),
        ("/articles?author=ann&favorited=reader", 5),
        ("/articles/feed?limit=20", 20),
        ("/articles?offset=500", 30),
    ],
)
async def test_a_signed_in_list_page_is_a_viewer_lookup_and_one_aggregate(
    client: httpx.AsyncClient,
    commands: CommandLog,
    reader: dict[str, str],
    path: str,
    expected_total: int,
) -> None:
    with commands.counting() as names:
        response = await client.get(path, headers=reader)

    assert response.status_code == 200
    body = response.json()
    assert body["articlesCount"] == expected_total
    assert all(item["tagList"] and "favorited" in item for item in body["articles"])
    assert names == SIGNED_IN_PAGE, names
    assert len(names) <= BUDGET


@pytest.mark.parametrize(
    "path",
    ["/articles?limit=20", "/articles?tag=common", "/articles?author=bob", "/articles?offset=500"],
)
async def test_an_anonymous_list_page_is_exactly_one_aggregate(
    client: httpx.AsyncClient, commands: CommandLog, reader: dict[str, str], path: str
) -> None:
    with commands.counting() as names:
        response = await client.get(path)

    assert response.status_code == 200
    assert response.json()["articlesCount"] > 0
    assert names == ANONYMOUS_PAGE, names


async def test_the_command_count_does_not_grow_with_the_page(
    client: httpx.AsyncClient, commands: CommandLog, reader: dict[str, str]
) -> None:
    counts = []
    for limit in (1, 10, 30):
        with commands.counting() as names:
            response = await client.get(f"/articles?limit={limit}", headers=reader)
        assert len(response.json()["articles"]) == limit
        counts.append(names)

    assert counts == [SIGNED_IN_PAGE] * 3, counts


async def test_reads_open_no_transaction(
    client: httpx.AsyncClient, commands: CommandLog, reader: dict[str, str], newest_slug: str
) -> None:
    paths = [
        "/articles",
        "/articles/feed",
        f"/articles/{newest_slug}",
        f"/articles/{newest_slug}/comments",
        "/profiles/ann",
        "/tags",
    ]
    with commands.counting() as names:
        for path in paths:
            assert (await client.get(path, headers=reader)).status_code == 200

    assert names, "the listener saw nothing"
    assert not SESSION_COMMANDS & set(names), names


async def test_a_write_is_seen_committing_its_transaction(
    client: httpx.AsyncClient, commands: CommandLog, reader: dict[str, str], newest_slug: str
) -> None:
    """The counterpart of the test above: the listener does see transaction control."""
    with commands.counting() as names:
        response = await client.post(f"/articles/{newest_slug}/favorite", headers=reader)

    assert response.status_code == 200
    assert names[-1] == "commitTransaction", names


@pytest.mark.parametrize(
    ("signed_in", "expected"), [(True, [*TOKEN_CHECK, "find", "aggregate"]), (False, ["aggregate"])]
)
async def test_an_article_is_one_aggregate(
    client: httpx.AsyncClient,
    commands: CommandLog,
    reader: dict[str, str],
    newest_slug: str,
    signed_in: bool,
    expected: list[str],
) -> None:
    with commands.counting() as names:
        response = await client.get(f"/articles/{newest_slug}", headers=reader if signed_in else {})

    assert response.status_code == 200
    assert response.json()["article"]["body"] == "b"
    assert names == expected, names


@pytest.mark.parametrize(
    ("signed_in", "expected"),
    [(True, [*TOKEN_CHECK, "find", "find", "aggregate"]), (False, ["find", "aggregate"])],
)
async def test_comments_are_an_article_lookup_and_one_aggregate(
    client: httpx.AsyncClient,
    commands: CommandLog,
    reader: dict[str, str],
    newest_slug: str,
    signed_in: bool,
    expected: list[str],
) -> None:
    with commands.counting() as names:
        response = await client.get(
            f"/articles/{newest_slug}/comments", headers=reader if signed_in else {}
        )

    assert response.status_code == 200
    comments = response.json()["comments"]
    assert [c["author"]["username"] for c in comments] == ["ann", "bob", "reader"]
    assert names == expected, names
    assert len(names) <= 3 + len(TOKEN_CHECK)


@pytest.mark.parametrize(
    ("signed_in", "expected"), [(True, [*TOKEN_CHECK, "find", "aggregate"]), (False, ["aggregate"])]
)
async def test_a_profile_is_one_aggregate(
    client: httpx.AsyncClient,
    commands: CommandLog,
    reader: dict[str, str],
    signed_in: bool,
    expected: list[str],
) -> None:
    with commands.counting() as names:
        response = await client.get("/profiles/ann", headers=reader if signed_in else {})

    assert response.status_code == 200
    assert response.json()["profile"]["following"] is signed_in
    assert names == expected, names


async def test_the_token_check_is_one_find_in_revoked_tokens(
    client: httpx.AsyncClient, commands: CommandLog, reader: dict[str, str]
) -> None:
    commands.collections.clear()
    with commands.counting() as names:
        response = await client.get("/articles?limit=20", headers=reader)

    assert response.status_code == 200
    assert (names[0], commands.collections[0]) == ("find", "revoked_tokens")


async def test_with_redis_the_token_check_leaves_mongodb(
    commands: CommandLog, settings: Settings, redis_prefix: str
) -> None:
    redis_settings = with_redis(settings, redis_prefix)
    await databases.empty_at(redis_settings.database_url)
    application = create_app(redis_settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as client:
            reader = await reading_list.seed(client)
            with commands.counting() as names:
                response = await client.get("/articles?limit=20", headers=reader)

    assert response.status_code == 200
    assert names == ["find", "aggregate"], names
