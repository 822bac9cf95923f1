"""Cross-origin requests: RealWorld front ends live on another origin."""

from __future__ import annotations

import httpx
import pytest

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
