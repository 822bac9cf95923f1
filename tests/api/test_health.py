"""GET /healthz, at the root rather than under /api."""

from __future__ import annotations

import httpx

HEALTH = "http://test/healthz"


async def test_health_is_json_with_a_status(client: httpx.AsyncClient) -> None:
    response = await client.get(HEALTH)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert "status" in body
    assert isinstance(body["status"], str)
    assert body["status"]


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get(HEALTH, headers={"Authorization": "Token nonsense"})

    assert response.status_code == 200


async def test_health_is_not_under_api(client: httpx.AsyncClient) -> None:
    assert (await client.get(HEALTH)).status_code == 200
    assert (await client.get("/healthz")).status_code == 404
