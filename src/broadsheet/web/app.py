"""The ASGI application factory. Nothing is opened at import time; the lifespan owns storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from broadsheet import bootstrap
from broadsheet.settings import Settings, get_settings
from broadsheet.web import errors, health
from broadsheet.web.api import router as api_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap.running(settings) as broadsheet:
            app.state.broadsheet = broadsheet
            yield

    app = FastAPI(
        title="Broadsheet",
        summary="A publishing platform serving the RealWorld (Conduit) API.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
    )
    if settings.trusted_proxies:
        # X-Forwarded-For from these peers only: the client is the rightmost address that is
        # not itself a trusted proxy. ``broadsheet serve`` turns uvicorn's own handling off.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    errors.install(app)
    app.include_router(api_router)
    app.include_router(health.router)
    return app
