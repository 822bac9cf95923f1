from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import WithJsonSchema

from broadsheet.domain import rules
from broadsheet.services import graph
from broadsheet.web.api import schemas
from broadsheet.web.api.params import Top, Username
from broadsheet.web.api.responses import OPTIONAL_AUTH, errors, read_anonymously_on_a_bad_token
from broadsheet.web.deps import MaybeViewer, Uow, Viewer
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["follow graph"], route_class=JsonRoute)

To = Annotated[
    str | None,
    Query(description="The username the path leads to."),
    WithJsonSchema({"type": "string", "minLength": 1}),
]


@router.get(
    "/user/suggestions",
    operation_id="GetFollowSuggestions",
    summary="Whom to follow",
    description="Users followed by the people you follow, ranked by how many of them follow "
    "each (ties by username); never you or anyone you already follow. Asks the first "
    f"{rules.SUGGESTIONS_ASK} of the people you follow.",
    responses=errors(401, 422),
)
async def suggestions(viewer: Viewer, uow: Uow, limit: Top = None) -> schemas.SuggestionsResponse:
    found = await graph.suggestions(uow, viewer_id=viewer.user_id, limit=limit)
    return schemas.SuggestionsResponse(suggestions=[schemas.Suggestion.of(s) for s in found])


@router.get(
    "/profiles/{username}/path",
    operation_id="GetFollowPath",
    summary="How one user reaches another through follows",
    description="The users on a shortest chain of follows from `username` to `to`, both "
    f"included, at most {rules.MAX_PATH_FOLLOWS} follows long; `[]` if there is none that "
    "short. Among equally short chains, the same one on every backend.",
    responses={**read_anonymously_on_a_bad_token(), **errors(404, 422)},
    openapi_extra=OPTIONAL_AUTH,
)
async def path(
    username: Username, viewer: MaybeViewer, uow: Uow, to: To = None
) -> schemas.PathResponse:
    profiles = await viewer.read(
        lambda viewer_id: graph.path(
            uow, from_username=username, to_username=to, viewer_id=viewer_id
        )
    )
    return schemas.PathResponse(
        path=[schemas.Profile.of(p) for p in profiles], max_follows=rules.MAX_PATH_FOLLOWS
    )
