"""Profiles and follows."""

from __future__ import annotations

from broadsheet.domain import rules
from broadsheet.domain.errors import Invalid, NotFound
from broadsheet.domain.models import Profile
from broadsheet.domain.ports import UnitOfWork
from broadsheet.services import lookups, retry


async def show(uow: UnitOfWork, *, username: str, viewer_id: int | None) -> Profile:
    async with uow.read_only():
        viewer = await lookups.optional_viewer(uow, viewer_id)
        profile = await uow.users.profile(rules.storable("username", username), viewer_id=viewer)
    if profile is None:
        raise NotFound("profile")
    return profile


@retry.on_conflict
async def follow(uow: UnitOfWork, *, username: str, viewer_id: int) -> Profile:
    async with uow:
        viewer = await lookups.viewer(uow, viewer_id)
        followee = await lookups.user(uow, username)
        if followee.id == viewer.id:
            raise Invalid("profile", "cannot follow yourself")
        await uow.follows.add(follower_id=viewer.id, followee_id=followee.id)
        await uow.commit()
    return followee.as_profile(following=True)


@retry.on_conflict
async def unfollow(uow: UnitOfWork, *, username: str, viewer_id: int) -> Profile:
    async with uow:
        viewer = await lookups.viewer(uow, viewer_id)
        followee = await lookups.user(uow, username)
        await uow.follows.remove(follower_id=viewer.id, followee_id=followee.id)
        await uow.commit()
    return followee.as_profile(following=False)
