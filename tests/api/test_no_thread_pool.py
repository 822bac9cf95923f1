"""No request hands work to the thread pool: every endpoint and dependency is ``async def``.

FastAPI runs a plain ``def`` endpoint or dependency in anyio's worker threads, a hand-off to
another thread and back on every request. Two checks: the whole dependency graph of every
route is coroutines (this fails the moment someone adds a sync dependency, whether or not a
test calls it), and a run of the common routes on an event loop of its own starts no worker
thread (this also catches a sync call FastAPI makes that the graph does not show).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests import databases
from tests.api.helpers import register

# anyio's name for the threads of the pool FastAPI and Starlette hand sync code to.
POOL_THREAD = "AnyIO worker thread"


def _callables(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _callables(sub)


def _is_coroutine(call: Callable[..., Any]) -> bool:
    # A dependency may be an instance (APIKeyHeader): its __call__ is what FastAPI awaits.
    dunder_call = getattr(call, "__call__", None)  # noqa: B004 - the method, not callability
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(dunder_call)


def test_every_endpoint_and_dependency_is_a_coroutine(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"api_docs": True}))
    routes = [
        (route, dependant)
        for route in iter_route_contexts(app.routes)
        if isinstance(dependant := getattr(route, "dependant", None), Dependant)
    ]
    assert len(routes) > 20  # the API, /healthz and /docs

    sync = {
        f"{sorted(route.methods or ())} {route.path}: {getattr(call, '__qualname__', call)}"
        for route, dependant in routes
        for call in _callables(dependant)
        if not _is_coroutine(call)
    }

    assert not sync, sorted(sync)


def test_the_common_routes_start_no_worker_thread(settings: Settings) -> None:
    """On a fresh event loop anyio has no worker threads yet: any hand-off starts one."""
    pool_threads_before = {t.ident for t in threading.enumerate() if t.name == POOL_THREAD}

    async def run() -> set[int | None]:
        await databases.empty_at(settings.database_url)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as api:
                jake = await register(api, "jake")
                article = {"title": "Threads", "description": "d", "body": "b", "tagList": ["x"]}
                created = await api.post(
                    "/articles", json={"article": article}, headers=jake.headers
                )
                slug = created.json()["article"]["slug"]
                comment = {"comment": {"body": "c"}}
                requests = [
                    api.get("/articles?limit=20"),
                    api.get("/articles?limit=20", headers=jake.headers),
                    api.get("/articles?tag=x"),
                    api.get("/articles/feed", headers=jake.headers),
                    api.get(f"/articles/{slug}"),
                    api.get(f"/articles/{slug}/comments"),
                    api.post(f"/articles/{slug}/comments", json=comment, headers=jake.headers),
                    api.post(f"/articles/{slug}/favorite", headers=jake.headers),
                    api.get("/profiles/jake"),
                    api.get("/user", headers=jake.headers),
                    api.get("/tags"),
                    api.get("/articles/missing"),  # a 404 too
                    api.get("/articles?limit=0"),  # and a 422
                ]
                statuses = [(await request).status_code for request in requests]
                assert statuses == [200] * 6 + [201] + [200] * 4 + [404, 422], statuses
                return {t.ident for t in threading.enumerate() if t.name == POOL_THREAD}

    pool_threads_during = asyncio.run(run())

    assert pool_threads_during <= pool_threads_before
