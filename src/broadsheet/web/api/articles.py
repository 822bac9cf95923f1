from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from broadsheet.domain.models import ArticleFilter
from broadsheet.services import articles
from broadsheet.web.api import schemas
from broadsheet.web.deps import App, MaybeViewer, Uow, Viewer
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["articles"], route_class=JsonRoute)

# Bounds are checked by the domain (rules.page_bounds), so every presenter says the same.
Limit = Annotated[int | None, Query(description="1 to 100, default 20")]
Offset = Annotated[int | None, Query(description="0 or more, default 0")]


@router.get("/articles")
async def find(
    viewer: MaybeViewer,
    uow: Uow,
    tag: str | None = None,
    author: str | None = None,
    favorited: str | None = None,
    limit: Limit = None,
    offset: Offset = None,
) -> schemas.MultipleArticlesResponse:
    filters = ArticleFilter(tag=tag, author=author, favorited_by=favorited)
    page = await viewer.read(
        lambda viewer_id: articles.find(
            uow, filters=filters, viewer_id=viewer_id, limit=limit, offset=offset
        )
    )
    return schemas.MultipleArticlesResponse.of(page)


@router.get("/articles/feed")
async def feed(
    viewer: Viewer, uow: Uow, limit: Limit = None, offset: Offset = None
) -> schemas.MultipleArticlesResponse:
    page = await articles.feed(uow, viewer_id=viewer.user_id, limit=limit, offset=offset)
    return schemas.MultipleArticlesResponse.of(page)


@router.get("/articles/{slug}")
async def show(slug: str, viewer: MaybeViewer, uow: Uow) -> schemas.SingleArticleResponse:
    article = await viewer.read(
        lambda viewer_id: articles.show(uow, slug=slug, viewer_id=viewer_id)
    )
    return schemas.SingleArticleResponse(article=schemas.Article.of_view(article))


@router.post("/articles", status_code=status.HTTP_201_CREATED)
async def create(
    request: schemas.NewArticleRequest, viewer: Viewer, app: App, uow: Uow
) -> schemas.SingleArticleResponse:
    new = request.article
    article = await articles.create(
        uow,
        clock=app.clock,
        author_id=viewer.user_id,
        title=new.title,
        description=new.description,
        body=new.body,
        tags=new.tag_list,
    )
    return schemas.SingleArticleResponse(article=schemas.Article.of_view(article))


@router.put("/articles/{slug}")
async def update(
    slug: str, request: schemas.UpdateArticleRequest, viewer: Viewer, app: App, uow: Uow
) -> schemas.SingleArticleResponse:
    changes = request.article
    article = await articles.update(
        uow,
        clock=app.clock,
        slug=slug,
        viewer_id=viewer.user_id,
        title=changes.change("title", changes.title),
        description=changes.change("description", changes.description),
        body=changes.change("body", changes.body),
        tags=changes.change("tag_list", changes.tag_list),
    )
    return schemas.SingleArticleResponse(article=schemas.Article.of_view(article))


@router.delete("/articles/{slug}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete(slug: str, viewer: Viewer, uow: Uow) -> None:
    await articles.delete(uow, slug=slug, viewer_id=viewer.user_id)


@router.post("/articles/{slug}/favorite")
async def favorite(slug: str, viewer: Viewer, uow: Uow) -> schemas.SingleArticleResponse:
    article = await articles.favorite(uow, slug=slug, viewer_id=viewer.user_id)
    return schemas.SingleArticleResponse(article=schemas.Article.of_view(article))


@router.delete("/articles/{slug}/favorite")
async def unfavorite(slug: str, viewer: Viewer, uow: Uow) -> schemas.SingleArticleResponse:
    article = await articles.unfavorite(uow, slug=slug, viewer_id=viewer.user_id)
    return schemas.SingleArticleResponse(article=schemas.Article.of_view(article))
