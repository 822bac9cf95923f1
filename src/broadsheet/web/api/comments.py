from __future__ import annotations

from fastapi import APIRouter, Response, status

from broadsheet.services import comments
from broadsheet.web.api import schemas
from broadsheet.web.deps import App, MaybeViewer, Uow, Writer, viewer_id

router = APIRouter(tags=["comments"])


@router.get("/articles/{slug}/comments")
async def list_for(slug: str, viewer: MaybeViewer, uow: Uow) -> schemas.MultipleCommentsResponse:
    found = await comments.list_for(uow, slug=slug, viewer_id=viewer_id(viewer))
    return schemas.MultipleCommentsResponse(comments=[schemas.Comment.of(c) for c in found])


@router.post("/articles/{slug}/comments", status_code=status.HTTP_201_CREATED)
async def add(
    slug: str, request: schemas.NewCommentRequest, viewer: Writer, app: App, uow: Uow
) -> schemas.SingleCommentResponse:
    comment = await comments.add(
        uow, clock=app.clock, slug=slug, viewer_id=viewer.user_id, body=request.comment.body
    )
    return schemas.SingleCommentResponse(comment=schemas.Comment.of(comment))


@router.delete(
    "/articles/{slug}/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def delete(slug: str, comment_id: int, viewer: Writer, uow: Uow) -> None:
    await comments.delete(uow, slug=slug, comment_id=comment_id, viewer_id=viewer.user_id)
