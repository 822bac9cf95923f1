"""The follow graph on documents (storage/mongo/graph.py): suggestions are one pipeline that
starts from the follows' index, a path is one command, and both answer as the memory store
does on graphs the contract tests do not draw."""

from __future__ import annotations

import functools
import random
from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient

import broadsheet.storage.mongo
from broadsheet.domain import rules
from broadsheet.domain.models import User
from broadsheet.domain.ports import Storage
from broadsheet.storage import open_storage
from broadsheet.storage.mongo import MongoStorage, graph
from tests import databases, factories
from tests.conftest import BACKENDS
from tests.contract.test_graph import FOLLOWS, _graph
from tests.mongo import plans

FOLLOWER_INDEX = graph.BY_FOLLOWER
# Mixed case, so that the username key's order is not the usernames' own.
NAMES = ["ada", "Bea", "cal", "Dot", "eli", "Fox", "gil", "Hap", "ike", "Jan", "kit", "Lou"]


@pytest.fixture(params=[b for b in BACKENDS if b.startswith("mongodb")])
def mongo_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[str(request.param)]  # created here, outside any running event loop


@pytest.fixture
async def recorded(mongo_url: str) -> AsyncIterator[tuple[MongoStorage, plans.Commands]]:
    commands = plans.Commands()
    with pytest.MonkeyPatch.context() as patch:
        # The storage builds its client itself, so the listener goes in where it is built.
        patch.setattr(
            broadsheet.storage.mongo,
            "AsyncMongoClient",
            functools.partial(AsyncMongoClient, event_listeners=[commands]),
        )
        storage = MongoStorage(mongo_url)
    await databases.empty(storage)
    try:
        yield storage, commands
    finally:
        await storage.close()


async def test_suggestions_are_one_pipeline_from_the_follower_index(
    recorded: tuple[MongoStorage, plans.Commands],
) -> None:
    store, commands = recorded
    users = await _graph(store)

    with commands.recording() as seen:
        async with store.unit_of_work() as uow:
            suggested = await uow.graph.suggestions(users["ann"].id, limit=10)

    assert [s.profile.username for s in suggested] == ["eve", "fay", "gus"]
    (command,) = [c for c in seen if "aggregate" in c]
    assert [next(iter(c)) for c in seen] == ["aggregate"]  # no session or transaction command
    assert command["aggregate"] == "follows"
    stages = [next(iter(stage)) for stage in command["pipeline"]]
    # The asked followees are cut in index order before the second hop joins anything.
    assert stages[:4] == ["$match", "$sort", "$limit", "$lookup"]
    explained = await plans.explain(store.database, command)
    assert FOLLOWER_INDEX in plans.indexes_used(explained), explained


async def test_each_walk_has_an_index(recorded: tuple[MongoStorage, plans.Commands]) -> None:
    """Forward over ``follower_id``, backward over ``followee_id``: each leads an index."""
    store, _ = recorded
    names = {index["name"] async for index in await store.database.follows.list_indexes()}
    assert {FOLLOWER_INDEX, "followee_id_1_follower_id_1"} <= names


@pytest.mark.parametrize(
    ("start", "end", "max_follows", "expected"),
    [
        ("jo", "ivy", 4, ["aggregate"]),  # both walks: one command
        ("ann", "bob", 1, ["aggregate"]),  # forward only
        ("ann", "ivy", 3, ["aggregate"]),
        ("ann", "ann", 4, []),  # the start itself: nothing to ask
        ("ann", "bob", 0, []),  # no follow allowed
    ],
)
async def test_a_path_is_at_most_one_command(
    recorded: tuple[MongoStorage, plans.Commands],
    start: str,
    end: str,
    max_follows: int,
    expected: list[str],
) -> None:
    store, commands = recorded
    users = await _graph(store)

    with commands.recording() as seen:
        async with store.unit_of_work() as uow:
            await uow.graph.path(users[start].id, users[end].id, max_follows=max_follows)

    assert [next(iter(c)) for c in seen] == expected
    assert len(seen) <= 2  # the bound the port's callers are promised


async def test_a_walk_returns_only_the_follows_within_its_depth(
    recorded: tuple[MongoStorage, plans.Commands],
) -> None:
    """From jo, two follows deep: jo's and ann's follows; to ivy, two: those to ivy and to
    gus and hal. Nothing three hops away from either end."""
    store, _ = recorded
    users = await _graph(store)
    names = {user.id: name for name, user in users.items()}
    pipeline = graph.path_pipeline(users["jo"].id, users["ivy"].id, max_follows=4)

    (walked,) = await (await store.database.users.aggregate(pipeline)).to_list()

    def crossed(walk: str) -> set[tuple[str, str, int]]:
        return {
            (names[f["follower_id"]], names[f["followee_id"]], f["depth"]) for f in walked[walk]
        }

    assert crossed("forward") == {
        ("jo", "ann", 0),
        *(("ann", followee, 1) for followee in FOLLOWS["ann"]),
    }
    assert crossed("backward") == {
        ("gus", "ivy", 0),
        ("hal", "ivy", 0),
        ("cy", "gus", 1),
        ("eve", "hal", 1),
        ("fay", "hal", 1),
    }


async def _random_follows(stores: list[Storage], seed: int) -> list[dict[str, User]]:
    """The same random follows in each store, users made in the same order (so their ids
    compare alike everywhere)."""
    draw = random.Random(seed)
    pairs = [(a, b) for a in NAMES for b in NAMES if a != b and draw.random() < 0.18]
    made = []
    for store in stores:
        users = {name: await factories.user(store, username=name) for name in NAMES}
        async with store.unit_of_work() as uow:
            for follower, followee in pairs:
                await uow.follows.add(
                    follower_id=users[follower].id, followee_id=users[followee].id
                )
            await uow.commit()
        made.append(users)
    return made


async def _suggested(store: Storage, users: dict[str, User], viewer: str) -> list[object]:
    async with store.unit_of_work() as uow:
        found = await uow.graph.suggestions(users[viewer].id, limit=5)
    return [(s.profile, s.followed_by) for s in found]


async def _path(
    store: Storage, users: dict[str, User], start: str, end: str, most: int
) -> list[str] | None:
    names = {user.id: name for name, user in users.items()}
    async with store.unit_of_work() as uow:
        ids = await uow.graph.path(users[start].id, users[end].id, max_follows=most)
    return None if ids is None else [names[i] for i in ids]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_answers_as_the_memory_store_does(
    recorded: tuple[MongoStorage, plans.Commands], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    store, _ = recorded
    memory = open_storage("memory://")
    monkeypatch.setattr(rules, "SUGGESTIONS_ASK", 2)  # so that the cut is exercised too
    draw = random.Random(seed)
    trips = [(draw.choice(NAMES), draw.choice(NAMES), draw.randint(0, 5)) for _ in range(60)]
    try:
        in_memory, in_mongo = await _random_follows([memory, store], seed)
        for viewer in NAMES:
            expected = await _suggested(memory, in_memory, viewer)
            assert await _suggested(store, in_mongo, viewer) == expected, viewer
        found = 0
        for start, end, most in trips:
            expected_path = await _path(memory, in_memory, start, end, most)
            assert await _path(store, in_mongo, start, end, most) == expected_path, (start, end)
            found += expected_path is not None and len(expected_path) > 2
    finally:
        await memory.close()
    assert found  # some paths of two follows or more were compared, not only misses
