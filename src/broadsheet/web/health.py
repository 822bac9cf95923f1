"""``/healthz``: the process answers and its database does too."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from broadsheet.web.deps import App
from broadsheet.web.errors import envelope

router = APIRouter(tags=["health"])
log = logging.getLogger("broadsheet.web")


@router.get("/healthz")
async def healthz(app: App) -> JSONResponse:
    try:
        await app.storage.ping()
    except Exception:
        log.exception("health check: database unreachable")
        return JSONResponse(envelope("database", "unreachable"), status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
