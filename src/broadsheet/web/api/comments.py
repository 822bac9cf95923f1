from __future__ import annotations

from fastapi import APIRouter, Response, status

from broadsheet.services import comments
from broadsheet.web.api import schemas
from broadsheet.web.api.params import CommentId, Reason, Slug
from broadsheet.web.api.responses import (
    OPTIONAL_AUTH,
    errors,
    links_from_comment,
    read_anonymously_on_a_bad_token,
)
from broadsheet.web.deps import App, MaybeViewer, Uow, Writer
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["comments"], route_class=JsonRoute)


@router.get(
    "/articles/{slug:article_slug}/comments",
    operation_id="GetArticleComments",
    responses={**read_anonymously_on_a_bad_token(), **errors(404)},
    openapi_extra=OPTIONAL_AUTH,
)
async def list_for(slug: Slug, viewer: MaybeViewer, uow: Uow) -> schemas.MultipleCommentsResponse:
    found = await viewer.read(
        lambda viewer_id: comments.list_for(uow, slug=slug, viewer_id=viewer_id)
    )
    return schemas.MultipleCommentsResponse(comments=[schemas.Comment.of(c) for c in found])


@router.post(
    "/articles/{slug:article_slug}/comments",
    status_code=status.HTTP_201_CREATED,
    operation_id="CreateArticleComment",
    responses={201: {"links": links_from_comment()}, **errors(401, 404, 422, rate_limited=True)},
)
async def add(
    slug: Slug, request: schemas.NewCommentRequest, viewer: Writer, app: App, uow: Uow
) -> schemas.SingleCommentResponse:
    comment = await comments.add(
        uow, clock=app.clock, slug=slug, viewer_id=viewer.user_id, body=request.comment.body
    )
    return schemas.SingleCommentResponse(comment=schemas.Comment.of(comment))


@router.delete(
    "/articles/{slug:article_slug}/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="DeleteArticleComment",
    responses=errors(401, 403, 404, 422, rate_limited=True),
)
async def delete(
    slug: Slug, comment_id: CommentId, viewer: Writer, app: App, uow: Uow, reason: Reason = None
) -> None:
    await comments.delete(
        uow,
        clock=app.clock,
        slug=slug,
        comment_id=comment_id,
        viewer_id=viewer.user_id,
        reason=reason,
    )
