"""A read costs a fixed, small number of MongoDB commands, whatever the page size (no N+1)
and however many articles match.

Counted with PyMongo command monitoring: a ``CommandListener`` on the app's own client sees
every command the driver sends while the request runs. A list page is one ``aggregate``: the
page in index order, then author, following and favorited joined for its documents only,
and its total read from a counter by a ``$unionWith`` (storage/mongo/lists.py). A list
filtered by a user (``?author=``, ``?favorited=``) first resolves that user with one
``find`` on the unique ``username_key`` index, which also carries the counter that is the
total (so the page is a plain index walk on ``author_id`` or ``user_id``); the feed first
reads the viewer's followees (one ``aggregate`` on ``follows``, which also sums their
``articles_count``). Those lists cost one command more than the single, but O(matches),
``$facet`` pipeline they replace. A signed-in request adds the token check and the viewer
lookup (two ``find``). Reads run outside any transaction, so no transaction-control or
session command may appear.
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
VIEWER = ["find"]  # the signed-in viewer, by _id
BUDGET = 4  # token check + viewer lookup + at most two commands for the list
SESSION_COMMANDS = {"startTransaction", "commitTransaction", "abortTransaction", "endSessions"}

PAGE = ["aggregate"]  # the page and its total (a counter, or counted when filters combine)
NAMED_USERS = ["find"]  # ?author= and/or ?favorited=: one find for both, with their counters
FOLLOWEES = ["aggregate"]  # the feed: the viewer's followees and their articles_count, summed
SIGNED_IN_PAGE = [*TOKEN_CHECK, *VIEWER, *PAGE]
ANONYMOUS_PAGE = PAGE


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
    ("path", "expected_total", "list_commands"),
    [
        ("/articles?limit=20", 30, PAGE),  # total: totals.articles
        ("/articles?limit=100", 30, PAGE),
        ("/articles?limit=5&offset=10", 30, PAGE),
        ("/articles?tag=common&limit=20", 30, PAGE),  # total: tags[common].articles_count
        ("/articles?tag=tag1", 8, PAGE),
        ("/articles?author=ann", 10, [*NAMED_USERS, *PAGE]),  # total: ann's articles_count
        ("/articles?favorited=reader", 15, [*NAMED_USERS, *PAGE]),  # reader's favorites_count
        # both users in the one find; combined filters are counted inside the aggregate
        ("/articles?author=ann&favorited=reader", 5, [*NAMED_USERS, *PAGE]),
        ("/articles?tag=tag1&author=ann", 2, [*NAMED_USERS, *PAGE]),
        ("/articles/feed?limit=20", 20, [*FOLLOWEES, *PAGE]),  # total: followees' counts summed
        ("/articles?offset=500", 30, PAGE),  # past the end: the counter still gives the total
    ],
)
async def test_a_signed_in_list_page_is_a_viewer_lookup_and_at_most_two_commands(
    client: httpx.AsyncClient,
    commands: CommandLog,
    reader: dict[str, str],
    path: str,
    expected_total: int,
    list_commands: list[str],
) -> None:
    with commands.counting() as names:
        response = await client.get(path, headers=reader)

    assert response.status_code == 200
    body = response.json()
    assert body["articlesCount"] == expected_total
    assert all(item["tagList"] and "favorited" in item for item in body["articles"])
    assert names == [*TOKEN_CHECK, *VIEWER, *list_commands], names
    assert len(names) <= BUDGET


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/articles?limit=20", PAGE),
        ("/articles?tag=common", PAGE),
        ("/articles?author=bob", [*NAMED_USERS, *PAGE]),
        ("/articles?favorited=reader", [*NAMED_USERS, *PAGE]),
        ("/articles?offset=500", PAGE),
    ],
)
async def test_an_anonymous_list_page_is_one_aggregate_after_the_named_user(
    client: httpx.AsyncClient,
    commands: CommandLog,
    reader: dict[str, str],
    path: str,
    expected: list[str],
) -> None:
    with commands.counting() as names:
        response = await client.get(path)

    assert response.status_code == 200
    assert response.json()["articlesCount"] > 0
    assert names == expected, names


@pytest.mark.parametrize(
    "path",
    [
        "/articles?author=nobody",
        "/articles?favorited=nobody",
        "/articles?author=ann&favorited=nobody",
    ],
)
async def test_a_list_filtered_by_an_unknown_user_stops_after_the_find(
    client: httpx.AsyncClient, commands: CommandLog, reader: dict[str, str], path: str
) -> None:
    with commands.counting() as names:
        response = await client.get(path)

    assert response.status_code == 200
    assert response.json() == {"articles": [], "articlesCount": 0}
    assert names == NAMED_USERS, names


async def test_the_feed_of_someone_who_follows_nobody_stops_after_the_followees(
    client: httpx.AsyncClient, commands: CommandLog, reader: dict[str, str]
) -> None:
    body = {"user": {"username": "loner", "email": "loner@example.com", "password": "password1"}}
    token = (await client.post("/users", json=body)).json()["user"]["token"]
    with commands.counting() as names:
        response = await client.get("/articles/feed", headers={"Authorization": f"Token {token}"})

    assert response.status_code == 200
    assert response.json() == {"articles": [], "articlesCount": 0}
    assert names == [*TOKEN_CHECK, *VIEWER, *FOLLOWEES], names


async def test_popular_tags_are_one_find_on_the_tag_counters(
    client: httpx.AsyncClient, commands: CommandLog, reader: dict[str, str]
) -> None:
    commands.collections.clear()
    with commands.counting() as names:
        response = await client.get("/tags")

    assert response.status_code == 200
    assert response.json()["tags"][:5] == ["common", "tag0", "tag1", "tag2", "tag3"]
    assert (names, commands.collections) == (["find"], ["tags"])


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
    assert "commitTransaction" in names, names
    after_commit = names[names.index("commitTransaction") + 1 :]
    assert set(after_commit) <= {"find", "aggregate"}, names  # re-check, then the article


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
