from __future__ import annotations

from fastapi import APIRouter

from broadsheet.services import subscriptions
from broadsheet.web.api import schemas
from broadsheet.web.api.params import TagName
from broadsheet.web.api.responses import errors
from broadsheet.web.deps import Uow, Viewer, Writer
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["subscriptions"], route_class=JsonRoute)


@router.get(
    "/user/subscriptions",
    operation_id="GetSubscriptions",
    summary="What your wider feed draws from",
    description="The authors you follow (by username) and the tags you subscribe to "
    "(alphabetical): `GET /api/articles/feed?include=tags` shows their articles.",
    responses=errors(401),
)
async def listed(viewer: Viewer, uow: Uow) -> schemas.SubscriptionsResponse:
    found = await subscriptions.of(uow, viewer_id=viewer.user_id)
    return schemas.SubscriptionsResponse.of(found)


@router.post(
    "/tags/{tag:path}/subscription",
    operation_id="SubscribeToTag",
    summary="Subscribe to a tag",
    description="Idempotent. The tag need not be in use yet.",
    responses=errors(401, 422, rate_limited=True),
)
async def subscribe(tag: TagName, viewer: Writer, uow: Uow) -> schemas.TagSubscriptionResponse:
    name = await subscriptions.set_subscribed(
        uow, viewer_id=viewer.user_id, tag=tag, subscribed=True
    )
    return schemas.TagSubscriptionResponse.of(name, subscribed=True)


@router.delete(
    "/tags/{tag:path}/subscription",
    operation_id="UnsubscribeFromTag",
    summary="Unsubscribe from a tag",
    description="Idempotent.",
    responses=errors(401, 422, rate_limited=True),
)
async def unsubscribe(tag: TagName, viewer: Writer, uow: Uow) -> schemas.TagSubscriptionResponse:
    name = await subscriptions.set_subscribed(
        uow, viewer_id=viewer.user_id, tag=tag, subscribed=False
    )
    return schemas.TagSubscriptionResponse.of(name, subscribed=False)
