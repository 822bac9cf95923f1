"""Rate limits on login, registration and writes: 429 with ``Retry-After`` in the error shape,
per client address (X-Forwarded-For only from a trusted proxy) and per account."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from broadsheet.settings import Settings
from tests.api.helpers import (
    BAD_CREDENTIALS,
    PASSWORD,
    Account,
    assert_error,
    assert_no_content,
    create_article,
    error,
    ok,
    register,
)

TOO_MANY = re.compile(r"^too many requests; retry after (\d+) seconds$")

# The test client connects from 127.0.0.1.
LIMITS: dict[str, Any] = {
    "rate_limits": True,
    "rate_limit_login": "3/minute",
    "rate_limit_login_failures": "2/minute",
    "rate_limit_registration": "2/hour",
    "rate_limit_writes_per_account": "3/minute",
    "rate_limit_writes_per_address": "5/minute",
}


@pytest.fixture
def limits() -> dict[str, Any]:
    """What a test changes of LIMITS (override in the test with ``@pytest.mark.parametrize``)."""
    return {}


@pytest.fixture
def settings(settings: Settings, limits: dict[str, Any]) -> Settings:
    return settings.model_copy(update={**LIMITS, **limits})


def assert_too_many(response: httpx.Response, *, at_most: int) -> None:
    errors = error(response, 429)
    assert set(errors) == {"request"}, errors
    [message] = errors["request"]
    match = TOO_MANY.match(message)
    assert match, message
    assert response.headers["Retry-After"] == match.group(1)
    assert 1 <= int(match.group(1)) <= at_most


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    body = {"user": {"email": email, "password": password}}
    return await client.post("/users/login", json=body, headers=headers)


async def test_login_attempts_per_address(client: httpx.AsyncClient, jake: Account) -> None:
    assert [(await login(client, jake.email, p)).status_code for p in ("x" * 8, PASSWORD)] == [
        401,
        200,
    ]
    ok(await login(client, jake.email))

    assert_too_many(await login(client, jake.email), at_most=60)
    assert_too_many(await login(client, "someone@else.example"), at_most=60)


@pytest.mark.parametrize("limits", [{"rate_limit_login": "100/minute"}])
async def test_failed_logins_per_account(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    for _ in range(2):
        assert_error(await login(client, jake.email, "wrong password"), 401, BAD_CREDENTIALS)

    # Past the limit even the right password waits: guessing is what is being slowed.
    assert_too_many(await login(client, jake.email), at_most=60)
    assert_too_many(await login(client, jake.email.upper()), at_most=60)
    ok(await login(client, jane.email))


@pytest.mark.parametrize("limits", [{"rate_limit_login": "100/minute"}])
async def test_successful_logins_are_not_failures(client: httpx.AsyncClient, jake: Account) -> None:
    for _ in range(5):
        ok(await login(client, jake.email))

    assert_error(await login(client, jake.email, "wrong password"), 401, BAD_CREDENTIALS)


@pytest.mark.parametrize("limits", [{"rate_limit_login": "100/minute"}])
async def test_unknown_accounts_are_limited_alike(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert_error(await login(client, "nobody@example.com"), 401, BAD_CREDENTIALS)

    assert_too_many(await login(client, "nobody@example.com"), at_most=60)


async def test_registrations_per_address(client: httpx.AsyncClient) -> None:
    await register(client, "jake")
    await register(client, "jane")

    response = await client.post(
        "/users",
        json={"user": {"username": "joe", "email": "joe@example.com", "password": PASSWORD}},
    )
    assert_too_many(response, at_most=3600)
    # Nothing was stored: the name is still free once the limit allows.
    assert (await client.get("/profiles/joe")).status_code == 404


async def test_writes_per_account(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    for number in range(3):
        await create_article(client, jake, f"Article {number}")

    refused = await client.post(
        "/articles",
        json={"article": {"title": "One more", "description": "d", "body": "b"}},
        headers=jake.headers,
    )
    assert_too_many(refused, at_most=60)
    assert_too_many(await client.post("/profiles/jane/follow", headers=jake.headers), at_most=60)
    assert_too_many(await client.delete("/articles/article-0", headers=jake.headers), at_most=60)
    # Reads are not writes, another account has its own allowance, and logout always works.
    assert ok(await client.get("/articles", headers=jake.headers))["articlesCount"] == 3
    await create_article(client, jane, "Jane's")
    assert_no_content(await client.post("/users/logout", headers=jake.headers))


@pytest.mark.parametrize("limits", [{"rate_limit_writes_per_account": "100/minute"}])
async def test_writes_per_address(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    for number in range(3):
        await create_article(client, jake, f"Article {number}")
    for number in range(2):
        await create_article(client, jane, f"Jane's {number}")

    assert_too_many(await client.post("/profiles/jake/follow", headers=jane.headers), at_most=60)


async def test_a_refused_write_changes_nothing(client: httpx.AsyncClient, jake: Account) -> None:
    for number in range(3):
        await create_article(client, jake, f"Article {number}")

    refused = await client.put("/user", json={"user": {"bio": "changed"}}, headers=jake.headers)

    assert_too_many(refused, at_most=60)
    assert ok(await client.get("/user", headers=jake.headers))["user"]["bio"] is None


async def test_forwarded_for_is_ignored_without_a_trusted_proxy(
    client: httpx.AsyncClient, jake: Account
) -> None:
    for number in range(3):
        ok(await login(client, jake.email, **{"X-Forwarded-For": f"203.0.113.{number}"}))

    forwarded = {"X-Forwarded-For": "203.0.113.99"}
    assert_too_many(await login(client, jake.email, **forwarded), at_most=60)


@pytest.mark.parametrize("limits", [{"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}])
async def test_forwarded_for_from_a_trusted_proxy(client: httpx.AsyncClient, jake: Account) -> None:
    for _ in range(3):
        ok(await login(client, jake.email, **{"X-Forwarded-For": "203.0.113.1"}))
    assert_too_many(
        await login(client, jake.email, **{"X-Forwarded-For": "203.0.113.1"}), at_most=60
    )

    # Another client behind the proxy has its own allowance; trusted hops are skipped.
    ok(await login(client, jake.email, **{"X-Forwarded-For": "203.0.113.2"}))
    ok(await login(client, jake.email, **{"X-Forwarded-For": "203.0.113.2, 10.1.2.3"}))


@pytest.mark.parametrize("limits", [{"trusted_proxies": ["127.0.0.1"]}])
async def test_only_the_rightmost_untrusted_address_counts(
    client: httpx.AsyncClient, jake: Account
) -> None:
    """A client cannot pick its address by sending its own X-Forwarded-For: the proxy appends
    the real one, and only that one is believed."""
    for number in range(3):
        spoofed = {"X-Forwarded-For": f"198.51.100.{number}, 203.0.113.7"}
        ok(await login(client, jake.email, **spoofed))

    spoofed = {"X-Forwarded-For": "198.51.100.200, 203.0.113.7"}
    assert_too_many(await login(client, jake.email, **spoofed), at_most=60)


@pytest.mark.parametrize("limits", [{"rate_limits": False}])
async def test_limits_can_be_switched_off(client: httpx.AsyncClient, jake: Account) -> None:
    for _ in range(8):
        assert_error(await login(client, jake.email, "wrong password"), 401, BAD_CREDENTIALS)
    ok(await login(client, jake.email))
