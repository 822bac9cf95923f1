from __future__ import annotations

from fastapi import APIRouter

from broadsheet.services import profiles
from broadsheet.web.api import schemas
from broadsheet.web.deps import MaybeViewer, Uow, Viewer
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["profiles"], route_class=JsonRoute)


@router.get("/profiles/{username}")
async def show(username: str, viewer: MaybeViewer, uow: Uow) -> schemas.ProfileResponse:
    profile = await viewer.read(
        lambda viewer_id: profiles.show(uow, username=username, viewer_id=viewer_id)
    )
    return schemas.ProfileResponse(profile=schemas.Profile.of(profile))


@router.post("/profiles/{username}/follow")
async def follow(username: str, viewer: Viewer, uow: Uow) -> schemas.ProfileResponse:
    profile = await profiles.follow(uow, username=username, viewer_id=viewer.user_id)
    return schemas.ProfileResponse(profile=schemas.Profile.of(profile))


@router.delete("/profiles/{username}/follow")
async def unfollow(username: str, viewer: Viewer, uow: Uow) -> schemas.ProfileResponse:
    profile = await profiles.unfollow(uow, username=username, viewer_id=viewer.user_id)
    return schemas.ProfileResponse(profile=schemas.Profile.of(profile))
