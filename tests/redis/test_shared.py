"""With Redis, every worker (here: two app instances over one database) shares one count of
each rate limit and one list of revoked tokens, and Redis forgets an entry when its token
would have expired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests import databases
from tests.api.helpers import PASSWORD, register
from tests.conftest import REDIS_URL, with_redis


@pytest.fixture
def shared_settings(settings: Settings, redis_prefix: str) -> Settings:
    return with_redis(settings, redis_prefix).model_copy(
        update={"rate_limits": True, "rate_limit_login": "3/minute"}
    )


@pytest.fixture
async def workers(shared_settings: Settings) -> AsyncIterator[list[httpx.AsyncClient]]:
    await databases.empty_at(shared_settings.database_url)
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            app: FastAPI = create_app(shared_settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://test/api")
                )
            )
        yield clients


async def test_one_login_limit_for_every_worker(workers: list[httpx.AsyncClient]) -> None:
    first, second = workers
    jake = await register(first, "jake")
    body = {"user": {"email": jake.email, "password": PASSWORD}}

    statuses = [
        (await (first, second)[i % 2].post("/users/login", json=body)).status_code for i in range(4)
    ]

    assert statuses == [200, 200, 200, 429]


async def test_a_logout_on_one_worker_counts_on_the_other(
    workers: list[httpx.AsyncClient],
) -> None:
    first, second = workers
    jake = await register(first, "jake")
    assert (await second.get("/user", headers=jake.headers)).status_code == 200

    assert (await first.post("/users/logout", headers=jake.headers)).status_code == 204

    assert (await second.get("/user", headers=jake.headers)).status_code == 401


async def test_redis_forgets_a_revoked_token_when_it_would_expire(
    workers: list[httpx.AsyncClient], shared_settings: Settings
) -> None:
    jake = await register(workers[0], "jake")
    await workers[0].post("/users/logout", headers=jake.headers)

    async with Redis.from_url(REDIS_URL) as client:
        keys = [key async for key in client.scan_iter(f"{shared_settings.redis_key_prefix}:*")]
        revoked = [key for key in keys if b":revoked-token:" in key]
        assert len(revoked) == 1
        ttl = await client.pttl(revoked[0])
    lifetime_ms = shared_settings.token_ttl_minutes * 60_000
    assert lifetime_ms - 60_000 < ttl <= lifetime_ms
