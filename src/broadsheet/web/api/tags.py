from __future__ import annotations

from fastapi import APIRouter

from broadsheet.services import tags
from broadsheet.web.api import schemas
from broadsheet.web.api.responses import errors
from broadsheet.web.deps import Uow
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["tags"], route_class=JsonRoute)


@router.get("/tags", operation_id="GetTags", responses=errors())
async def popular(uow: Uow) -> schemas.TagsResponse:
    return schemas.TagsResponse(tags=await tags.popular(uow))
