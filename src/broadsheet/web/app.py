"""The ASGI application factory. Nothing is opened at import time; the lifespan owns storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from broadsheet import bootstrap
from broadsheet.settings import Settings, get_settings
from broadsheet.web import docs, errors, health
from broadsheet.web.api import router as api_router
from broadsheet.web.cache import AnonymousReadCache
from broadsheet.web.headers import ResponseHeaders
from broadsheet.web.limits import BodyLimit
from broadsheet.web.timing import ServerTiming

OPENAPI_URL = "/openapi.json"


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
        openapi_url=OPENAPI_URL if settings.serves_api_docs else None,
        docs_url=None,  # web.docs serves both pages from this origin
        redoc_url=None,
        # /api/articles/ is not /api/articles: a 404, not a redirect an API client won't expect.
        redirect_slashes=False,
    )
    # Outermost last: every response, a 413, a 500 or a preflight, passes ResponseHeaders.
    # Innermost, the cache: a hit still gets the CORS, security and Server-Timing headers.
    app.add_middleware(AnonymousReadCache)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(errors.ServerErrors)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        # Tokens travel in a header, never in cookies: a "*" origin stays safe without it.
        allow_credentials=False,
    )
    app.add_middleware(ResponseHeaders)
    if settings.server_timing:
        # Around everything but the proxy headers: a 413, a 500 or a preflight says its cost.
        unit = "commands" if settings.is_document_store else "statements"
        app.add_middleware(ServerTiming, unit=unit)
    if settings.trusted_proxies:
        # X-Forwarded-For from these peers only: the client is the rightmost address that is
        # not itself a trusted proxy. ``broadsheet serve`` turns uvicorn's own handling off.
        # Outermost, so the headers policy sees the scheme (https) the proxy reports.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    errors.install(app)
    app.openapi = lambda: _openapi_without_fastapi_errors(app)  # type: ignore[method-assign]
    app.include_router(api_router)
    app.include_router(health.router)
    if settings.serves_api_docs:
        docs.install(app, openapi_url=OPENAPI_URL)
    return app


def _openapi_without_fastapi_errors(app: FastAPI) -> dict[str, Any]:
    """The schema FastAPI generates, less the 422 it adds to every route with parameters in
    its own ``{"detail": ...}`` shape: this API never answers that way, and each route that
    can answer 422 declares it (``web.api.responses``)."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                response = operation.get("responses", {}).get("422", {})
                if "HTTPValidationError" in str(response.get("content")):
                    del operation["responses"]["422"]
        components = schema.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
