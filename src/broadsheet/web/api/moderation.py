from __future__ import annotations

from fastapi import APIRouter

from broadsheet.services import moderation
from broadsheet.web.api import schemas
from broadsheet.web.api.params import Limit, Offset, Reason, Username
from broadsheet.web.api.responses import errors
from broadsheet.web.deps import App, Uow, Viewer, Writer
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["moderation"], route_class=JsonRoute)


@router.post(
    "/profiles/{username}/suspension",
    operation_id="SuspendUser",
    summary="Suspend a user (staff)",
    description="Admins and moderators; only an admin may suspend staff, and nobody "
    "themselves. The user's tokens stop working at once and they may not sign in; their "
    "articles and comments stay. Recorded in the audit log with `reason`.",
    responses=errors(401, 403, 404, 422, rate_limited=True),
)
async def suspend(
    username: Username, viewer: Writer, app: App, uow: Uow, reason: Reason = None
) -> schemas.SuspensionResponse:
    user = await moderation.suspend(
        uow,
        clock=app.clock,
        tokens=app.tokens,
        revocations=app.revocations,
        username=username,
        viewer_id=viewer.user_id,
        reason=reason,
    )
    return schemas.SuspensionResponse.of(user.username, suspended=True)


@router.delete(
    "/profiles/{username}/suspension",
    operation_id="ReinstateUser",
    summary="Lift a suspension (staff)",
    description="The user may sign in again; recorded in the audit log with `reason`.",
    responses=errors(401, 403, 404, 422, rate_limited=True),
)
async def reinstate(
    username: Username, viewer: Writer, app: App, uow: Uow, reason: Reason = None
) -> schemas.SuspensionResponse:
    user = await moderation.reinstate(
        uow, clock=app.clock, username=username, viewer_id=viewer.user_id, reason=reason
    )
    return schemas.SuspensionResponse.of(user.username, suspended=False)


@router.get(
    "/audit",
    operation_id="GetAuditLog",
    summary="The audit log (admins)",
    description="Every staff action, newest first: who, what, when and why.",
    responses=errors(401, 403, 422),
)
async def audit(
    viewer: Viewer, uow: Uow, limit: Limit = None, offset: Offset = None
) -> schemas.AuditLogResponse:
    page = await moderation.audit(uow, viewer_id=viewer.user_id, limit=limit, offset=offset)
    return schemas.AuditLogResponse.of(page)
