from __future__ import annotations

from fastapi import APIRouter, Response, status

from broadsheet.domain.models import ArticleFilter
from broadsheet.services import articles
from broadsheet.web.api import schemas
from broadsheet.web.api.params import (
    Author,
    FavoritedBy,
    Include,
    Limit,
    Offset,
    Reason,
    Slug,
    Tag,
)
from broadsheet.web.api.responses import (
    OPTIONAL_AUTH,
    errors,
    links_from_article,
    read_anonymously_on_a_bad_token,
)
from broadsheet.web.deps import App, MaybeViewer, Uow, Viewer, Writer
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["articles"], route_class=JsonRoute)


@router.get(
    "/articles",
    operation_id="GetArticles",
    responses={**read_anonymously_on_a_bad_token(), **errors(422)},
    openapi_extra=OPTIONAL_AUTH,
)
async def find(
    viewer: MaybeViewer,
    uow: Uow,
    tag: Tag = None,
    author: Author = None,
    favorited: FavoritedBy = None,
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


@router.get("/articles/feed", operation_id="GetArticlesFeed", responses=errors(401, 422))
async def feed(
    viewer: Viewer, uow: Uow, limit: Limit = None, offset: Offset = None, include: Include = None
) -> schemas.MultipleArticlesResponse:
    page = await articles.feed(
        uow, viewer_id=viewer.user_id, limit=limit, offset=offset, include=include
    )
    return schemas.MultipleArticlesResponse.of(page)


@router.get(
    "/articles/{slug:article_slug}",
    operation_id="GetArticle",
    responses={**read_anonymously_on_a_bad_token(), **errors(404)},
    openapi_extra=OPTIONAL_AUTH,
)
async def show(slug: Slug, viewer: MaybeViewer, uow: Uow) -> schemas.SingleArticleResponse:
    article = await viewer.read(
        lambda viewer_id: articles.show(uow, slug=slug, viewer_id=viewer_id)
    )
    return schemas.SingleArticleResponse(article=schemas.Article.of_view(article))


@router.post(
    "/articles",
    status_code=status.HTTP_201_CREATED,
    operation_id="CreateArticle",
    responses={201: {"links": links_from_article()}, **errors(401, 422, rate_limited=True)},
)
async def create(
    request: schemas.NewArticleRequest, viewer: Writer, app: App, uow: Uow
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


@router.put(
    "/articles/{slug:article_slug}",
    operation_id="UpdateArticle",
    responses=errors(401, 403, 404, 422, rate_limited=True),
)
async def update(
    slug: Slug, request: schemas.UpdateArticleRequest, viewer: Writer, app: App, uow: Uow
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


@router.delete(
    "/articles/{slug:article_slug}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="DeleteArticle",
    responses=errors(401, 403, 404, 422, rate_limited=True),
)
async def delete(slug: Slug, viewer: Writer, app: App, uow: Uow, reason: Reason = None) -> None:
    await articles.delete(uow, clock=app.clock, slug=slug, viewer_id=viewer.user_id, reason=reason)


@router.post(
    "/articles/{slug:article_slug}/favorite",
    operation_id="CreateArticleFavorite",
    responses=errors(401, 404, rate_limited=True),
)
async def favorite(slug: Slug, viewer: Writer, app: App, uow: Uow) -> schemas.SingleArticleResponse:
    article = await articles.favorite(uow, clock=app.clock, slug=slug, viewer_id=viewer.user_id)
    return schemas.SingleArticleResponse(article=schemas.Article.of_view(article))


@router.delete(
    "/articles/{slug:article_slug}/favorite",
    operation_id="DeleteArticleFavorite",
    responses=errors(401, 404, rate_limited=True),
)
async def unfavorite(slug: Slug, viewer: Writer, uow: Uow) -> schemas.SingleArticleResponse:
    article = await articles.unfavorite(uow, slug=slug, viewer_id=viewer.user_id)
    return schemas.SingleArticleResponse(article=schemas.Article.of_view(article))
