from __future__ import annotations

from fastapi import APIRouter

from broadsheet.services import tags
from broadsheet.web.api import schemas
from broadsheet.web.deps import Uow

router = APIRouter(tags=["tags"])


@router.get("/tags")
async def popular(uow: Uow) -> schemas.TagsResponse:
    return schemas.TagsResponse(tags=await tags.popular(uow))
