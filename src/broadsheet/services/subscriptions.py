"""Tag subscriptions: the tags whose new articles join a reader's wider feed."""

from __future__ import annotations

from broadsheet.domain import rules
from broadsheet.domain.errors import Invalid
from broadsheet.domain.models import Subscriptions
from broadsheet.domain.ports import UnitOfWork
from broadsheet.services import lookups, retry


def _tag(value: str) -> str:
    """A tag as articles carry it (trimmed, within the limits), named ``tag``."""
    try:
        cleaned = rules.tags([value])
    except Invalid as error:
        raise Invalid("tag", error.problems["tagList"][0].replace("a tag", "the tag")) from None
    if not cleaned:
        raise Invalid("tag", rules.BLANK)
    return cleaned[0]


@retry.on_conflict
async def set_subscribed(uow: UnitOfWork, *, viewer_id: int, tag: str, subscribed: bool) -> str:
    """Subscribe to the tag or take the subscription back; either way twice changes nothing.
    The tag as it is stored."""
    name = _tag(tag)
    async with uow:
        viewer = await lookups.viewer(uow, viewer_id)
        if subscribed:
            await uow.subscriptions.add(user_id=viewer.id, tag=name)
        else:
            await uow.subscriptions.remove(user_id=viewer.id, tag=name)
        await uow.commit()
    return name


async def of(uow: UnitOfWork, *, viewer_id: int) -> Subscriptions:
    async with uow.read_only():
        viewer = await lookups.viewer(uow, viewer_id)
        return await uow.subscriptions.of(viewer.id)
