"""The ``Graph`` port: who-to-follow suggestions and shortest follow paths, the same on
every store for the same follows."""

from __future__ import annotations

import pytest

from broadsheet.domain.models import User
from broadsheet.domain.ports import Storage
from tests import factories

# Who follows whom, by name: one small graph every test here reads.
FOLLOWS = {
    "ann": ["bob", "cy", "dee"],
    "bob": ["eve", "fay", "cy"],
    "cy": ["eve", "gus", "fay"],
    "dee": ["eve", "ann"],
    "eve": ["hal"],
    "fay": ["hal"],
    "gus": ["ivy"],
    "hal": ["ivy"],
    "ivy": [],
    "jo": ["ann"],  # follows into the graph; nobody follows jo
}


async def _graph(storage: Storage) -> dict[str, User]:
    users = {name: await factories.user(storage, username=name) for name in FOLLOWS}
    async with storage.unit_of_work() as uow:
        for follower, followees in FOLLOWS.items():
            for followee in followees:
                await uow.follows.add(
                    follower_id=users[follower].id, followee_id=users[followee].id
                )
        await uow.commit()
    return users


async def test_suggestions_rank_by_how_many_you_follow_follow_them(storage: Storage) -> None:
    users = await _graph(storage)

    async with storage.unit_of_work() as uow:
        suggested = await uow.graph.suggestions(users["ann"].id, limit=10)
        top_one = await uow.graph.suggestions(users["ann"].id, limit=1)
        for_ivy = await uow.graph.suggestions(users["ivy"].id, limit=10)

    # ann follows bob, cy, dee: eve is followed by all three, fay by two, gus by one; cy
    # (followed by bob) is ann's already, and dee's follow of ann is ann herself.
    assert [(s.profile.username, s.followed_by) for s in suggested] == [
        ("eve", 3),
        ("fay", 2),
        ("gus", 1),
    ]
    assert all(not s.profile.following for s in suggested)
    assert [s.profile.username for s in top_one] == ["eve"]
    assert for_ivy == []  # follows no one


async def test_ties_are_alphabetical(storage: Storage) -> None:
    users = await _graph(storage)

    async with storage.unit_of_work() as uow:
        suggested = await uow.graph.suggestions(users["dee"].id, limit=10)

    # dee follows eve and ann: hal (by eve), bob and cy (by ann) once each; ann's dee is dee
    assert [(s.profile.username, s.followed_by) for s in suggested] == [
        ("bob", 1),
        ("cy", 1),
        ("hal", 1),
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("ann", "ann", ["ann"]),
        ("ann", "bob", ["ann", "bob"]),
        ("ann", "eve", ["ann", "bob", "eve"]),  # also via cy and dee: bob has the smallest id
        ("ann", "hal", ["ann", "bob", "eve", "hal"]),
        ("ann", "ivy", ["ann", "cy", "gus", "ivy"]),  # 3 follows; via hal it takes 4
        ("jo", "ivy", ["jo", "ann", "cy", "gus", "ivy"]),  # 4 follows: the longest allowed
        ("ivy", "ann", None),  # follows have a direction
        ("bob", "jo", None),  # nobody follows jo
        ("eve", "ann", None),
    ],
)
async def test_a_shortest_path_of_follows(
    storage: Storage, start: str, end: str, expected: list[str] | None
) -> None:
    users = await _graph(storage)
    names = {user.id: name for name, user in users.items()}

    async with storage.unit_of_work() as uow:
        found = await uow.graph.path(users[start].id, users[end].id, max_follows=4)

    assert (None if found is None else [names[i] for i in found]) == expected


async def test_a_path_longer_than_allowed_is_not_found(storage: Storage) -> None:
    users = await _graph(storage)

    async with storage.unit_of_work() as uow:
        three = await uow.graph.path(users["jo"].id, users["ivy"].id, max_follows=3)
        odd = await uow.graph.path(users["ann"].id, users["ivy"].id, max_follows=3)

    assert three is None
    assert odd is not None
    assert len(odd) == 4
