"""Redis going away and coming back, through a proxy the test cuts: rate limits keep counting
(in process) and never fail a request; revoked-token checks fail closed with a 503."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

import broadsheet.ratelimit
from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests import databases
from tests.api.helpers import PASSWORD, auth, register
from tests.conftest import with_redis
from tests.tcp_proxy import CuttableProxy

UNAVAILABLE = {"errors": {"redis": ["is unavailable; try again shortly"]}}


@pytest.fixture
async def redis_proxy() -> AsyncIterator[CuttableProxy]:
    proxy = CuttableProxy("127.0.0.1", 6379)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.cut()


@pytest.fixture
async def client(
    settings: Settings,
    redis_prefix: str,
    redis_proxy: CuttableProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setattr(broadsheet.ratelimit, "REDIS_RETRY_SECONDS", 0.2)
    through_proxy = with_redis(settings, redis_prefix).model_copy(
        update={"redis_url": redis_proxy.url, "rate_limits": True, "rate_limit_login": "3/minute"}
    )
    await databases.empty_at(through_proxy.database_url)
    app: FastAPI = create_app(through_proxy)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as http:
            yield http


async def _login(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/users/login", json={"user": {"email": email, "password": PASSWORD}})


async def test_rate_limits_count_in_process_while_redis_is_away(
    client: httpx.AsyncClient, redis_proxy: CuttableProxy
) -> None:
    jake = await register(client, "jake")
    assert [(await _login(client, jake.email)).status_code for _ in range(2)] == [200, 200]

    await redis_proxy.cut()
    away = [(await _login(client, jake.email)).status_code for _ in range(4)]
    # Counted afresh in this process: the allowance of three, then 429; never a 500.
    assert away == [200, 200, 200, 429]

    await redis_proxy.restore()
    await asyncio.sleep(0.3)  # past the pause before Redis is tried again
    back = [(await _login(client, jake.email)).status_code for _ in range(2)]
    # Redis still holds the two logins from before the cut: one more fits.
    assert back == [200, 429]


async def test_revoked_token_checks_fail_closed_while_redis_is_away(
    client: httpx.AsyncClient, redis_proxy: CuttableProxy
) -> None:
    jake = await register(client, "jake")
    assert (await client.get("/user", headers=jake.headers)).status_code == 200

    await redis_proxy.cut()
    signed_in = await client.get("/user", headers=jake.headers)
    assert (signed_in.status_code, signed_in.json()) == (503, UNAVAILABLE)
    assert signed_in.headers["Retry-After"] == "1"
    logout = await client.post("/users/logout", headers=jake.headers)
    assert logout.status_code == 503
    # Nothing else needs Redis: reading anonymously and logging in still work.
    assert (await client.get("/articles")).status_code == 200
    login = await _login(client, jake.email)
    assert login.status_code == 200

    await redis_proxy.restore()
    assert (await client.get("/user", headers=jake.headers)).status_code == 200
    fresh = login.json()["user"]["token"]
    assert (await client.post("/users/logout", headers=auth(fresh))).status_code == 204
    assert (await client.get("/user", headers=auth(fresh))).status_code == 401
