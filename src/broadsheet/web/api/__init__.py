"""The JSON API in RealWorld's wire format, under ``/api``."""

from fastapi import APIRouter

from broadsheet.web.api import (
    analytics,
    articles,
    comments,
    graph,
    moderation,
    profiles,
    search,
    subscriptions,
    tags,
    users,
)

router = APIRouter(prefix="/api")
_BEYOND_REALWORLD = (search, analytics, graph, subscriptions, moderation)  # docs/api.md
for module in (users, profiles, articles, comments, tags, *_BEYOND_REALWORLD):
    router.include_router(module.router)
