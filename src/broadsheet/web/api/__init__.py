"""The JSON API in RealWorld's wire format, under ``/api``."""

from fastapi import APIRouter

from broadsheet.web.api import articles, comments, profiles, tags, users

router = APIRouter(prefix="/api")
for module in (users, profiles, articles, comments, tags):
    router.include_router(module.router)
