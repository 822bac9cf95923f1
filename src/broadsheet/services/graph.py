"""The follow graph: whom to follow, and how two people are connected."""

from __future__ import annotations

from broadsheet.domain import rules
from broadsheet.domain.errors import Invalid
from broadsheet.domain.models import Profile, Suggestion
from broadsheet.domain.ports import UnitOfWork
from broadsheet.services import lookups


async def suggestions(
    uow: UnitOfWork, *, viewer_id: int, limit: int | None = None
) -> list[Suggestion]:
    size = rules.DEFAULT_SUGGESTIONS if limit is None else rules.top(limit)
    async with uow.read_only():
        viewer = await lookups.viewer(uow, viewer_id)
        return await uow.graph.suggestions(viewer.id, limit=size)


async def path(
    uow: UnitOfWork, *, from_username: str, to_username: str | None, viewer_id: int | None
) -> list[Profile]:
    """The people on a shortest chain of follows from one user to another, both included;
    empty when none is at most ``rules.MAX_PATH_FOLLOWS`` follows long."""
    if to_username is None or not to_username.strip():
        raise Invalid("to", rules.BLANK)
    async with uow.read_only():
        viewer = await lookups.optional_viewer(uow, viewer_id)
        start = await lookups.user(uow, from_username)
        end = await lookups.user(uow, to_username)
        ids = await uow.graph.path(start.id, end.id, max_follows=rules.MAX_PATH_FOLLOWS) or []
        found = await uow.users.profiles(ids, viewer_id=viewer)
        if len(found) < len(ids):  # someone on it is gone since: no longer a path
            return []
        return [found[user_id] for user_id in ids]
