"""Security headers on every response: API, errors, health, docs, CORS preflights, over TLS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests.api.helpers import PASSWORD, Account

ORIGIN = "http://localhost:4100"
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", (response.url, headers)
    assert headers.get("x-frame-options") == "DENY", (response.url, headers)
    assert headers.get("referrer-policy") == "no-referrer", (response.url, headers)
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, (response.url, headers)
    assert "server" not in headers, (response.url, headers)


@pytest.fixture
async def tls_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The same app, reached over https (as uvicorn reports it behind a trusted TLS proxy)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test/api") as http:
        yield http


def at_root(client: httpx.AsyncClient, path: str) -> httpx.URL:
    """``path`` outside ``/api``, on the client's scheme and host."""
    return client.base_url.copy_with(path=path)


async def some_responses(client: httpx.AsyncClient, jake: Account) -> list[httpx.Response]:
    """One of each kind: success, every error status the app makes, health, docs, preflight."""
    json = {"Content-Type": "application/json"}
    return [
        await client.get("/articles"),
        await client.get("/user", headers=jake.headers),
        await client.post("/users/login", json={"user": {"email": jake.email, "password": "x"}}),
        await client.get("/user"),
        await client.get("/articles/no-such-article"),
        await client.post("/users", content=b"{", headers=json),
        await client.patch("/user"),
        await client.post("/users", content=b"x" * (4 * 1024 * 1024), headers=json),
        await client.get("/no-such-route"),
        await client.get(at_root(client, "/healthz")),
        await client.get(at_root(client, "/openapi.json")),
        await client.get(at_root(client, "/docs")),
        await client.options(
            "/articles",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        ),
    ]


async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, jake: Account
) -> None:
    responses = await some_responses(client, jake)

    assert {r.status_code for r in responses} >= {200, 401, 404, 405, 413, 422}
    for response in responses:
        assert_security_headers(response)
        assert "strict-transport-security" not in response.headers, response.url


async def test_the_json_api_may_load_nothing(client: httpx.AsyncClient) -> None:
    for response in [await client.get("/articles"), await client.get("/nowhere")]:
        assert response.headers["content-security-policy"] == API_POLICY


async def test_strict_transport_security_only_over_tls(
    client: httpx.AsyncClient, tls_client: httpx.AsyncClient, jake: Account
) -> None:
    plain = await client.get("/articles")
    for response in await some_responses(tls_client, jake):
        assert_security_headers(response)
        assert response.headers["strict-transport-security"].startswith("max-age="), response.url
    assert "strict-transport-security" not in plain.headers


async def test_responses_that_carry_a_token_are_not_stored(
    client: httpx.AsyncClient, jake: Account
) -> None:
    login = {"user": {"email": jake.email, "password": PASSWORD}}
    registration = {"user": {"username": "amy", "email": "amy@example.com", "password": PASSWORD}}
    responses = [
        await client.post("/users/login", json=login),
        await client.post("/users", json=registration),
        await client.get("/user", headers=jake.headers),
        await client.put("/user", json={"user": {"bio": "hi"}}, headers=jake.headers),
        await client.get("/user"),
        # Anything answered for a signed-in reader is theirs alone.
        await client.get("/articles", headers=jake.headers),
        await client.get("/profiles/jake", headers=jake.headers),
    ]

    assert [r.status_code for r in responses] == [200, 201, 200, 200, 401, 200, 200]
    for response in responses:
        assert response.headers.get("cache-control") == "no-store", response.url


async def test_a_forwarded_scheme_counts_only_from_a_trusted_proxy(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    trusting = create_app(settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]}))

    untrusted = await client.get("/tags", headers=forwarded)
    async with trusting.router.lifespan_context(trusting):
        transport = httpx.ASGITransport(app=trusting, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as http:
            trusted = await http.get("/tags", headers=forwarded)

    assert untrusted.status_code == trusted.status_code == 200
    assert "strict-transport-security" not in untrusted.headers
    assert trusted.headers["strict-transport-security"].startswith("max-age=")
