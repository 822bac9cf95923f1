from __future__ import annotations

from fastapi import APIRouter

from broadsheet.services import profiles
from broadsheet.web.api import schemas
from broadsheet.web.api.params import Username
from broadsheet.web.api.responses import OPTIONAL_AUTH, errors, read_anonymously_on_a_bad_token
from broadsheet.web.deps import MaybeViewer, Uow, Writer
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["profiles"], route_class=JsonRoute)


@router.get(
    "/profiles/{username}",
    operation_id="GetProfileByUsername",
    responses={**read_anonymously_on_a_bad_token(), **errors(404)},
    openapi_extra=OPTIONAL_AUTH,
)
async def show(username: Username, viewer: MaybeViewer, uow: Uow) -> schemas.ProfileResponse:
    profile = await viewer.read(
        lambda viewer_id: profiles.show(uow, username=username, viewer_id=viewer_id)
    )
    return schemas.ProfileResponse(profile=schemas.Profile.of(profile))


@router.post(
    "/profiles/{username}/follow",
    operation_id="FollowUserByUsername",
    responses=errors(401, 404, 422, rate_limited=True),
)
async def follow(username: Username, viewer: Writer, uow: Uow) -> schemas.ProfileResponse:
    profile = await profiles.follow(uow, username=username, viewer_id=viewer.user_id)
    return schemas.ProfileResponse(profile=schemas.Profile.of(profile))


@router.delete(
    "/profiles/{username}/follow",
    operation_id="UnfollowUserByUsername",
    responses=errors(401, 404, 422, rate_limited=True),
)
async def unfollow(username: Username, viewer: Writer, uow: Uow) -> schemas.ProfileResponse:
    profile = await profiles.unfollow(uow, username=username, viewer_id=viewer.user_id)
    return schemas.ProfileResponse(profile=schemas.Profile.of(profile))
