"""``/healthz``: the process answers, its database does too, and its schema is current.

Answered within ``BROADSHEET_HEALTH_TIMEOUT_SECONDS`` whatever the database does, so a
stalled database makes it a quick 503 rather than a hung probe.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from broadsheet.domain.errors import StoreUnavailable
from broadsheet.web.deps import App
from broadsheet.web.errors import envelope

router = APIRouter(tags=["health"])
log = logging.getLogger("broadsheet.web")


@router.get("/healthz")
async def healthz(app: App) -> JSONResponse:
    bound = app.settings.health_timeout_seconds
    try:
        async with asyncio.timeout(bound):
            await app.storage.ping()
            problem = await app.storage.schema_problem()
    except StoreUnavailable as error:
        log.warning("health check: database unreachable: %s", error.reason)
        problem = "unreachable"
    except TimeoutError:
        log.warning("health check: database did not answer within %gs", bound)
        problem = f"unreachable: no answer within {bound:g}s"
    if problem is not None:
        return JSONResponse(
            envelope("database", problem), status_code=503, headers={"Retry-After": "1"}
        )
    return JSONResponse({"status": "ok", "database": "ok"})
