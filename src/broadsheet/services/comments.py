"""Comments on articles."""

from __future__ import annotations

from broadsheet.domain import rules
from broadsheet.domain.errors import NotFound
from broadsheet.domain.models import AuditAction, CommentView
from broadsheet.domain.ports import Clock, UnitOfWork
from broadsheet.services import lookups, moderation, retry


@retry.on_conflict
async def add(
    uow: UnitOfWork, *, clock: Clock, slug: str, viewer_id: int, body: str | None
) -> CommentView:
    with rules.Checks() as check:
        check(rules.storable, "slug", slug)
        text = check(rules.comment_body, body)
    async with uow:
        author = await lookups.viewer(uow, viewer_id)
        article = await lookups.article(uow, slug)
        comment = await uow.comments.add(
            article_id=article.id,
            author_id=author.id,
            body=text,
            created_at=rules.timestamp(clock.now()),
        )
        await uow.commit()
    return CommentView(
        id=comment.id,
        body=comment.body,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
        author=author.as_profile(following=False),
    )


async def list_for(uow: UnitOfWork, *, slug: str, viewer_id: int | None) -> list[CommentView]:
    async with uow.read_only():
        viewer = await lookups.optional_viewer(uow, viewer_id)
        article = await lookups.article(uow, slug)
        return await uow.comments.list_for(article.id, viewer_id=viewer)


@retry.on_conflict
async def delete(
    uow: UnitOfWork,
    *,
    slug: str,
    comment_id: int,
    viewer_id: int,
    clock: Clock,
    reason: str | None = None,
) -> None:
    """The comment's author deletes it; staff may delete anyone's, recorded in the audit log
    with ``reason``. The id must belong to that article."""
    because = rules.reason(reason)
    async with uow:
        viewer = await lookups.viewer(uow, viewer_id)
        article = await lookups.article(uow, slug)
        comment = await uow.comments.get(comment_id) if rules.is_storable_id(comment_id) else None
        if comment is None or comment.article_id != article.id:
            raise NotFound("comment")
        await moderation.authorize_removal(
            uow,
            clock=clock,
            viewer=viewer,
            subject="comment",
            author_id=comment.author_id,
            action=AuditAction.DELETE_COMMENT,
            target=f"{article.slug}#{comment.id}",
            reason=because,
        )
        await uow.comments.delete(comment.id)
        await uow.commit()
