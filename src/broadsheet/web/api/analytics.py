from __future__ import annotations

from fastapi import APIRouter

from broadsheet.domain import rules
from broadsheet.services import analytics
from broadsheet.web.api import schemas
from broadsheet.web.api.params import Days, Top, Username
from broadsheet.web.api.responses import OPTIONAL_AUTH, errors, read_anonymously_on_a_bad_token
from broadsheet.web.deps import App, MaybeViewer, Uow
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["analytics"], route_class=JsonRoute)


@router.get(
    "/analytics/tags",
    operation_id="GetTagTrends",
    summary="Popular tags over a window",
    description="The tags most published with in the window, with their count in the window "
    "of the same length before and the change; tags with no article in the window are left out.",
    responses=errors(422),
)
async def tag_trends(
    app: App, uow: Uow, days: Days = None, limit: Top = None
) -> schemas.TagTrendsResponse:
    window, trends = await analytics.tag_trends(uow, clock=app.clock, days=days, limit=limit)
    return schemas.TagTrendsResponse(
        window=schemas.Window.of(window), tags=[schemas.TagTrend.of(t) for t in trends]
    )


@router.get(
    "/analytics/trending",
    operation_id="GetTrendingArticles",
    summary="Articles by the favorites they received in a window",
    description="Most favorited in the window first (favorites since taken back don't count), "
    "ties newest first; each in the article-list shape with `favoritesInWindow`.",
    responses={**read_anonymously_on_a_bad_token(), **errors(422)},
    openapi_extra=OPTIONAL_AUTH,
)
async def trending(
    viewer: MaybeViewer, app: App, uow: Uow, days: Days = None, limit: Top = None
) -> schemas.TrendingResponse:
    window, top = await viewer.read(
        lambda viewer_id: analytics.trending(
            uow, clock=app.clock, viewer_id=viewer_id, days=days, limit=limit
        )
    )
    return schemas.TrendingResponse(
        window=schemas.Window.of(window),
        articles=[schemas.TrendingArticle.of_trend(t) for t in top],
    )


@router.get(
    "/profiles/{username}/stats",
    operation_id="GetAuthorStats",
    summary="An author's figures",
    description="Articles written, favorites received over them, followers, following, and "
    f"the {rules.TOP_ARTICLES_OF_AUTHOR} most favorited articles (ties newest first).",
    responses={**read_anonymously_on_a_bad_token(), **errors(404)},
    openapi_extra=OPTIONAL_AUTH,
)
async def author_stats(
    username: Username, viewer: MaybeViewer, uow: Uow
) -> schemas.AuthorStatsResponse:
    stats = await viewer.read(
        lambda viewer_id: analytics.author_stats(uow, username=username, viewer_id=viewer_id)
    )
    return schemas.AuthorStatsResponse(stats=schemas.AuthorStats.of(stats))
