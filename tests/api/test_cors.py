"""Cross-origin requests: RealWorld front ends live on another origin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests.api.helpers import Account, ok

ORIGIN = "http://localhost:4100"


def allowed_headers(response: httpx.Response) -> set[str]:
    value = response.headers.get("access-control-allow-headers", "")
    return {name.strip().lower() for name in value.split(",") if name.strip()}


def origin_allowed(response: httpx.Response, origin: str) -> bool:
    return response.headers.get("access-control-allow-origin") in {"*", origin}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/articles"),
        ("GET", "/user"),
        ("PUT", "/user"),
        ("DELETE", "/articles/some-slug"),
        ("POST", "/users/login"),
    ],
)
async def test_preflight_allows_the_authorization_header(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code in {200, 204}, response.text
    assert origin_allowed(response, ORIGIN), response.headers
    headers = allowed_headers(response)
    assert "*" in headers or {"authorization", "content-type"} <= headers, response.headers
    methods = response.headers.get("access-control-allow-methods", "")
    assert "*" in methods or method in methods.upper(), response.headers


async def test_any_origin_is_allowed_by_default(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/articles",
        headers={
            "Origin": "https://conduit.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )

    assert response.status_code in {200, 204}
    assert origin_allowed(response, "https://conduit.example.org")


async def test_simple_request_carries_the_cors_header(
    client: httpx.AsyncClient, jake: Account
) -> None:
    response = await client.get("/articles", headers={"Origin": ORIGIN})

    ok(response)
    assert origin_allowed(response, ORIGIN), response.headers


async def test_authenticated_request_carries_the_cors_header(
    client: httpx.AsyncClient, jake: Account
) -> None:
    response = await client.get("/user", headers={"Origin": ORIGIN, **jake.headers})

    ok(response)
    assert origin_allowed(response, ORIGIN), response.headers


async def test_error_responses_carry_the_cors_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/user", headers={"Origin": ORIGIN})

    assert response.status_code == 401
    assert origin_allowed(response, ORIGIN), response.headers


@pytest.fixture
async def restricted(
    settings: Settings, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """A second app over the same (emptied) database, allowing one origin from the environment."""
    monkeypatch.setenv("BROADSHEET_CORS_ORIGINS", f"{ORIGIN}, https://other.example")
    configured = Settings(
        database_url=settings.database_url,
        secret_key="test-secret-key-0123456789abcdef",
        auto_migrate=False,
    )
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as http:
            yield http


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_allowed_origins_are_configurable(restricted: httpx.AsyncClient) -> None:
    allowed = await restricted.options("/articles", headers=preflight(ORIGIN))
    second = await restricted.options("/articles", headers=preflight("https://other.example"))
    refused = await restricted.options("/articles", headers=preflight("https://evil.example"))

    assert allowed.status_code in {200, 204}
    assert allowed.headers.get("access-control-allow-origin") == ORIGIN
    assert "authorization" in allowed_headers(allowed)
    assert second.headers.get("access-control-allow-origin") == "https://other.example"
    assert refused.headers.get("access-control-allow-origin") not in {"*", "https://evil.example"}
    simple = await restricted.get("/tags", headers={"Origin": "https://evil.example"})
    assert ok(simple) == {"tags": []}
    assert simple.headers.get("access-control-allow-origin") not in {"*", "https://evil.example"}


async def test_any_origin_never_comes_with_credentials(
    client: httpx.AsyncClient, restricted: httpx.AsyncClient, jake: Account
) -> None:
    """A "*" origin with credentials would let any site act with a visitor's cookies."""
    responses = [
        await client.options("/articles", headers=preflight(ORIGIN)),
        await client.get("/user", headers={"Origin": ORIGIN, **jake.headers}),
        await client.get("/user", headers={"Origin": ORIGIN}),
        await restricted.options("/articles", headers=preflight(ORIGIN)),
        await restricted.get("/tags", headers={"Origin": ORIGIN}),
    ]

    assert responses[0].headers["access-control-allow-origin"] == "*"
    for response in responses:
        assert "access-control-allow-credentials" not in response.headers, response.headers
