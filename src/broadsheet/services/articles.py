"""Articles: writing, reading, listing, searching, the feed and favorites."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from broadsheet.domain import rules
from broadsheet.domain import search as search_rules
from broadsheet.domain.errors import AlreadyExists, Forbidden, NotFound
from broadsheet.domain.models import (
    UNCHANGED,
    Article,
    ArticleChanges,
    ArticleFilter,
    ArticleSummary,
    ArticleView,
    AuditAction,
    Change,
    NewArticle,
    Page,
)
from broadsheet.domain.ports import Clock, UnitOfWork
from broadsheet.services import lookups, moderation, retry


@retry.on_conflict
async def create(
    uow: UnitOfWork,
    *,
    clock: Clock,
    author_id: int,
    title: str | None,
    description: str | None,
    body: str | None,
    tags: Iterable[str] = (),
) -> ArticleView:
    with rules.Checks() as check:
        title = check(rules.required_text, "title", title)
        description = check(rules.required_text, "description", description)
        body = check(rules.required_text, "body", body)
        tag_set = check(rules.tags, tags)
    async with uow:
        author = await lookups.viewer(uow, author_id)
        created_at = rules.timestamp(clock.now())

        def store(slug: str) -> Awaitable[Article]:
            return uow.articles.add(
                NewArticle(
                    slug=slug,
                    title=title,
                    description=description,
                    body=body,
                    tags=tag_set,
                    author_id=author.id,
                    created_at=created_at,
                )
            )

        article = await _with_free_slug(title, store)
        view = await _view(uow, article.slug, viewer_id=author.id)
        await uow.commit()
    return view


async def show(uow: UnitOfWork, *, slug: str, viewer_id: int | None) -> ArticleView:
    async with uow.read_only():
        viewer = await lookups.optional_viewer(uow, viewer_id)
        return await _view(uow, slug, viewer_id=viewer)


@retry.on_conflict
async def update(
    uow: UnitOfWork,
    *,
    clock: Clock,
    slug: str,
    viewer_id: int,
    title: Change[str | None] = UNCHANGED,
    description: Change[str | None] = UNCHANGED,
    body: Change[str | None] = UNCHANGED,
    tags: Change[Iterable[str]] = UNCHANGED,
) -> ArticleView:
    """Only the author may edit. A new title brings a new slug; ``tags=()`` removes them all.

    Input is validated before the transaction opens, as in ``create``: a bad field is a 422
    whoever sends it. Only what really changes is written, and nothing at all (``updatedAt``
    included) when nothing does. The store applies the change only to the version read here;
    if a concurrent edit committed first, the store raises ``TransientConflict`` and the
    whole use case runs again from a fresh read, so both edits land.
    """
    changes: dict[str, Any] = {}
    with rules.Checks() as check:
        check(rules.storable, "slug", slug)
        if title is not UNCHANGED:
            changes["title"] = check(rules.required_text, "title", title)
        if description is not UNCHANGED:
            changes["description"] = check(rules.required_text, "description", description)
        if body is not UNCHANGED:
            changes["body"] = check(rules.required_text, "body", body)
        if tags is not UNCHANGED:
            changes["tags"] = check(rules.tags, tags)
    async with uow:
        article = await _owned(uow, slug, viewer_id)
        edit = ArticleChanges(
            **{field: value for field, value in changes.items() if getattr(article, field) != value}
        )
        if edit:
            before, updated_at = article, _later(clock.now(), article.updated_at)
            renamed = edit.title is not None and rules.slug_for(edit.title) != rules.slug_for(
                before.title
            )
            if renamed:
                article = await _with_free_slug(
                    changes["title"],
                    lambda free: uow.articles.update(
                        before, replace(edit, slug=free), updated_at=updated_at
                    ),
                )
            else:
                article = await uow.articles.update(before, edit, updated_at=updated_at)
        view = await _view(uow, article.slug, viewer_id=viewer_id)
        await uow.commit()
    return view


@retry.on_conflict
async def delete(
    uow: UnitOfWork,
    *,
    slug: str,
    viewer_id: int,
    clock: Clock,
    reason: str | None = None,
) -> None:
    """The author deletes their article; staff may delete anyone's, recorded in the audit
    log with ``reason``."""
    because = rules.reason(reason)
    async with uow:
        viewer = await lookups.viewer(uow, viewer_id)
        article = await lookups.article(uow, slug)
        await moderation.authorize_removal(
            uow,
            clock=clock,
            viewer=viewer,
            subject="article",
            author_id=article.author_id,
            action=AuditAction.DELETE_ARTICLE,
            target=article.slug,
            reason=because,
        )
        await uow.articles.delete(article.id)
        await uow.commit()


async def find(
    uow: UnitOfWork,
    *,
    filters: ArticleFilter,
    viewer_id: int | None,
    limit: int | None = None,
    offset: int | None = None,
) -> Page[ArticleSummary]:
    with rules.Checks() as check:
        filters = check(rules.article_filter, filters)
        bounds = check(rules.page_bounds, limit, offset)
    size, start = bounds
    async with uow.read_only():
        viewer = await lookups.optional_viewer(uow, viewer_id)
        return await uow.articles.find(filters, viewer_id=viewer, limit=size, offset=start)


async def search(
    uow: UnitOfWork,
    *,
    q: str | None,
    viewer_id: int | None,
    limit: int | None = None,
    offset: int | None = None,
) -> Page[ArticleSummary]:
    with rules.Checks() as check:
        query = check(search_rules.parse, q)
        bounds = check(rules.page_bounds, limit, offset)
    size, start = bounds
    async with uow.read_only():
        viewer = await lookups.optional_viewer(uow, viewer_id)
        return await uow.articles.search(query, viewer_id=viewer, limit=size, offset=start)


async def feed(
    uow: UnitOfWork,
    *,
    viewer_id: int,
    limit: int | None = None,
    offset: int | None = None,
    include: str | None = None,
) -> Page[ArticleSummary]:
    """The followed authors' articles; with ``include="tags"`` the subscribed tags' too."""
    with rules.Checks() as check:
        bounds = check(rules.page_bounds, limit, offset)
        with_tags = check(rules.feed_includes_tags, include)
    size, start = bounds
    async with uow.read_only():
        viewer = await lookups.viewer(uow, viewer_id)
        if with_tags:
            return await uow.articles.feed_with_tags(viewer_id=viewer.id, limit=size, offset=start)
        return await uow.articles.feed(viewer_id=viewer.id, limit=size, offset=start)


@retry.on_conflict
async def favorite(uow: UnitOfWork, *, clock: Clock, slug: str, viewer_id: int) -> ArticleView:
    return await _mark_favorite(uow, slug, viewer_id, at=rules.timestamp(clock.now()))


@retry.on_conflict
async def unfavorite(uow: UnitOfWork, *, slug: str, viewer_id: int) -> ArticleView:
    return await _mark_favorite(uow, slug, viewer_id, at=None)


async def _mark_favorite(
    uow: UnitOfWork, slug: str, viewer_id: int, *, at: datetime | None
) -> ArticleView:
    """Favorite the article ``at`` that moment, or (None) take the favorite back.

    Idempotent both ways: favoriting twice, or unfavoriting what isn't, changes nothing.
    The article is shown as this request left it, read after the commit (a store may count
    favorites outside the transaction); ``favorited`` is what this request made it, even if
    a concurrent toggle by the same user has committed since.
    """
    async with uow:
        viewer = await lookups.viewer(uow, viewer_id)
        article = await lookups.article(uow, slug)
        if at is None:
            await uow.favorites.remove(user_id=viewer.id, article_id=article.id)
        else:
            await uow.favorites.add(user_id=viewer.id, article_id=article.id, at=at)
        await uow.commit()
        view = await _view(uow, slug, viewer_id=viewer.id)
    return replace(view, favorited=at is not None)


async def _owned(uow: UnitOfWork, slug: str, viewer_id: int) -> Article:
    """The article, if the viewer wrote it: 404 before 403, and only for a real viewer."""
    viewer = await lookups.viewer(uow, viewer_id)
    article = await lookups.article(uow, slug)
    if article.author_id != viewer.id:
        raise Forbidden("article")
    return article


async def _view(uow: UnitOfWork, slug: str, *, viewer_id: int | None) -> ArticleView:
    view = await uow.articles.view(rules.storable("slug", slug), viewer_id=viewer_id)
    if view is None:
        raise NotFound("article")
    return view


async def _with_free_slug(title: str, store: Callable[[str], Awaitable[Article]]) -> Article:
    """Store under the first slug the database accepts (its unique constraint decides)."""
    for slug in rules.slug_candidates(title):
        try:
            return await store(slug)
        except AlreadyExists:
            continue
    raise AlreadyExists("slug")


def _later(now: datetime, previous: datetime) -> datetime:
    """``updatedAt`` moves forward on every edit, even two edits within one millisecond."""
    return max(rules.timestamp(now), previous + timedelta(milliseconds=1))
