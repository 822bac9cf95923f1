"""Analytics: popular tags over a window, trending articles, an author's figures."""

from __future__ import annotations

from broadsheet.domain import rules
from broadsheet.domain.errors import NotFound
from broadsheet.domain.models import AuthorStats, TagTrend, TrendingArticle, Window
from broadsheet.domain.ports import Clock, UnitOfWork
from broadsheet.services import lookups


async def tag_trends(
    uow: UnitOfWork, *, clock: Clock, days: int | None = None, limit: int | None = None
) -> tuple[Window, list[TagTrend]]:
    """The tags most published with in the last ``days``, with the ``days`` before."""
    with rules.Checks() as check:
        window = check(rules.window, days, now=clock.now())
        size = check(rules.top, limit)
    async with uow.read_only():
        return window, await uow.analytics.tag_trends(window, limit=size)


async def trending(
    uow: UnitOfWork,
    *,
    clock: Clock,
    viewer_id: int | None,
    days: int | None = None,
    limit: int | None = None,
) -> tuple[Window, list[TrendingArticle]]:
    """The articles most favorited in the last ``days`` (favorites since taken back don't
    count)."""
    with rules.Checks() as check:
        window = check(rules.window, days, now=clock.now())
        size = check(rules.top, limit)
    async with uow.read_only():
        viewer = await lookups.optional_viewer(uow, viewer_id)
        return window, await uow.analytics.trending(window, viewer_id=viewer, limit=size)


async def author_stats(uow: UnitOfWork, *, username: str, viewer_id: int | None) -> AuthorStats:
    async with uow.read_only():
        viewer = await lookups.optional_viewer(uow, viewer_id)
        stats = await uow.analytics.author_stats(
            rules.storable("username", username),
            viewer_id=viewer,
            top=rules.TOP_ARTICLES_OF_AUTHOR,
        )
    if stats is None:
        raise NotFound("profile")
    return stats
