from __future__ import annotations

from fastapi import APIRouter

from broadsheet.services import articles
from broadsheet.web.api import schemas
from broadsheet.web.api.params import Limit, Offset, SearchText
from broadsheet.web.api.responses import OPTIONAL_AUTH, errors, read_anonymously_on_a_bad_token
from broadsheet.web.deps import MaybeViewer, Uow
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["search"], route_class=JsonRoute)


@router.get(
    "/search",
    operation_id="SearchArticles",
    summary="Full-text search of articles",
    description="Articles whose title, description or body match `q`, most relevant first "
    "(ties newest first), in the article-list shape; `articlesCount` counts every match.",
    responses={**read_anonymously_on_a_bad_token(), **errors(422)},
    openapi_extra=OPTIONAL_AUTH,
)
async def search(
    viewer: MaybeViewer,
    uow: Uow,
    q: SearchText = None,
    limit: Limit = None,
    offset: Offset = None,
) -> schemas.MultipleArticlesResponse:
    page = await viewer.read(
        lambda viewer_id: articles.search(uow, q=q, viewer_id=viewer_id, limit=limit, offset=offset)
    )
    return schemas.MultipleArticlesResponse.of(page)
