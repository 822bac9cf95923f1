"""The ``Follows`` port: directional, idempotent, also under concurrency."""

from __future__ import annotations

import asyncio

from broadsheet.domain.models import User
from broadsheet.domain.ports import Storage
from broadsheet.services import retry
from tests import factories


async def _following(storage: Storage, follower: User, followee: User) -> bool:
    async with storage.unit_of_work() as uow:
        profile = await uow.users.profile(followee.username, viewer_id=follower.id)
    assert profile is not None
    return profile.following


async def _feed_total(storage: Storage, viewer: User) -> int:
    async with storage.unit_of_work() as uow:
        page = await uow.articles.feed(viewer_id=viewer.id, limit=10, offset=0)
    return page.total


async def test_follow_is_one_way(storage: Storage) -> None:
    jake = await factories.user(storage)
    jane = await factories.user(storage)

    await factories.follow(storage, follower=jane, followee=jake)

    assert await _following(storage, jane, jake) is True
    assert await _following(storage, jake, jane) is False


async def test_following_twice_is_one_follow(storage: Storage) -> None:
    jake = await factories.user(storage)
    jane = await factories.user(storage)
    await factories.article(storage, author=jake)

    async with storage.unit_of_work() as uow:
        await uow.follows.add(follower_id=jane.id, followee_id=jake.id)
        await uow.follows.add(follower_id=jane.id, followee_id=jake.id)
        await uow.commit()
    await factories.follow(storage, follower=jane, followee=jake)

    assert await _following(storage, jane, jake) is True
    assert await _feed_total(storage, jane) == 1


async def test_concurrent_follows_are_one_follow(storage: Storage) -> None:
    jake = await factories.user(storage)
    jane = await factories.user(storage)
    await factories.article(storage, author=jake)

    # As the services do: a unit of work that loses the race is rolled back and run again.
    follow = retry.on_conflict(factories.follow)
    await asyncio.gather(*(follow(storage, follower=jane, followee=jake) for _ in "abc"))

    assert await _following(storage, jane, jake) is True
    assert await _feed_total(storage, jane) == 1


async def test_unfollow(storage: Storage) -> None:
    jake = await factories.user(storage)
    jane = await factories.user(storage)
    await factories.follow(storage, follower=jane, followee=jake)
    await factories.follow(storage, follower=jake, followee=jane)

    async with storage.unit_of_work() as uow:
        await uow.follows.remove(follower_id=jane.id, followee_id=jake.id)
        await uow.commit()

    assert await _following(storage, jane, jake) is False
    assert await _following(storage, jake, jane) is True


async def test_unfollowing_what_is_not_followed_does_nothing(storage: Storage) -> None:
    jake = await factories.user(storage)
    jane = await factories.user(storage)
    await factories.follow(storage, follower=jake, followee=jane)

    async with storage.unit_of_work() as uow:
        await uow.follows.remove(follower_id=jane.id, followee_id=jake.id)
        await uow.follows.remove(follower_id=jane.id, followee_id=jake.id)
        await uow.commit()

    assert await _following(storage, jane, jake) is False
    assert await _following(storage, jake, jane) is True
