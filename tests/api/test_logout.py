"""POST /api/users/logout, and the tokens a password change revokes. Run with the revoked
tokens kept in the database and in Redis, on every backend."""

from __future__ import annotations

import httpx
import pytest

from broadsheet.settings import Settings
from tests.api.helpers import (
    INVALID_TOKEN,
    MISSING_TOKEN,
    Account,
    assert_error,
    assert_no_content,
    auth,
    create_article,
    ok,
    register,
)
from tests.conftest import with_redis


@pytest.fixture(params=["database", "redis"])
def settings(request: pytest.FixtureRequest, settings: Settings, redis_prefix: str) -> Settings:
    return settings if request.param == "database" else with_redis(settings, redis_prefix)


async def login(client: httpx.AsyncClient, account: Account, password: str | None = None) -> str:
    body = {"user": {"email": account.email, "password": password or account.password}}
    token = ok(await client.post("/users/login", json=body))["user"]["token"]
    assert isinstance(token, str)
    return token


async def logout(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/users/logout", headers=auth(token))


async def test_logout_is_204_and_the_token_stops_working(
    client: httpx.AsyncClient, jake: Account
) -> None:
    ok(await client.get("/user", headers=jake.headers))

    assert_no_content(await logout(client, jake.token))

    assert_error(await client.get("/user", headers=jake.headers), 401, INVALID_TOKEN)
    assert_error(
        await client.post("/profiles/jane/follow", headers=jake.headers), 401, INVALID_TOKEN
    )
    assert_error(await client.get("/articles/feed", headers=jake.headers), 401, INVALID_TOKEN)


async def test_logout_twice_is_401(client: httpx.AsyncClient, jake: Account) -> None:
    assert_no_content(await logout(client, jake.token))

    assert_error(await logout(client, jake.token), 401, INVALID_TOKEN)


async def test_logout_needs_a_valid_token(client: httpx.AsyncClient, jake: Account) -> None:
    assert_error(await client.post("/users/logout"), 401, MISSING_TOKEN)
    assert_error(await logout(client, jake.token + "x"), 401, INVALID_TOKEN)
    assert_error(await logout(client, "not-a-token"), 401, INVALID_TOKEN)


async def test_logout_leaves_the_users_other_tokens(
    client: httpx.AsyncClient, jake: Account
) -> None:
    other_device = await login(client, jake)

    assert_no_content(await logout(client, jake.token))

    ok(await client.get("/user", headers=auth(other_device)))
    ok(await client.get("/user", headers=auth(await login(client, jake))))


async def test_a_revoked_token_on_an_optional_route_is_a_bad_token(
    client: httpx.AsyncClient, jake: Account
) -> None:
    """Auth-optional routes answer a revoked token exactly as any token that does not
    verify (the contract: as anonymous, with ``WWW-Authenticate: Token error="invalid_token"``)."""
    await create_article(client, jake)
    assert_no_content(await logout(client, jake.token))

    for path in ("/articles", "/profiles/jake", "/articles/how-to-train-your-dragon"):
        revoked = await client.get(path, headers=jake.headers)
        forged = await client.get(path, headers=auth(jake.token[:-2] + "xx"))
        assert revoked.status_code == forged.status_code, path
        assert revoked.json() == forged.json(), path
        assert revoked.headers.get("WWW-Authenticate") == forged.headers.get("WWW-Authenticate")


async def test_a_new_password_revokes_every_earlier_token(
    client: httpx.AsyncClient, jake: Account
) -> None:
    other_device = await login(client, jake)

    response = await client.put(
        "/user", json={"user": {"password": "a new password"}}, headers=jake.headers
    )
    fresh = ok(response)["user"]["token"]

    assert_error(await client.get("/user", headers=jake.headers), 401, INVALID_TOKEN)
    assert_error(await client.get("/user", headers=auth(other_device)), 401, INVALID_TOKEN)
    ok(await client.get("/user", headers=auth(fresh)))
    ok(await client.get("/user", headers=auth(await login(client, jake, "a new password"))))


async def test_other_changes_revoke_nothing(client: httpx.AsyncClient, jake: Account) -> None:
    response = await client.put("/user", json={"user": {"bio": "hi"}}, headers=jake.headers)
    fresh = ok(response)["user"]["token"]

    ok(await client.get("/user", headers=jake.headers))
    ok(await client.get("/user", headers=auth(fresh)))


async def test_a_refused_password_change_revokes_nothing(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    response = await client.put(
        "/user",
        json={"user": {"password": "a new password", "username": "jane"}},
        headers=jake.headers,
    )

    assert response.status_code == 409
    ok(await client.get("/user", headers=jake.headers))


async def test_the_password_change_does_not_touch_other_users(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    await client.put("/user", json={"user": {"password": "a new password"}}, headers=jake.headers)

    ok(await client.get("/user", headers=jane.headers))


async def test_every_token_is_its_own(client: httpx.AsyncClient) -> None:
    """Two logins in the same instant still get two tokens, so logging out one keeps the other."""
    account = await register(client, "jake")
    tokens = {account.token, *[await login(client, account) for _ in range(5)]}

    assert len(tokens) == 6
