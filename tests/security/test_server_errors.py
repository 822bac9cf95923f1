"""An unexpected error is a 500 in the envelope, and the connection it came on stays usable."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request

from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests.thread_server import serving

SECRET_IN_BODY = "body-secret-4711"
SECRET_TOKEN = "token-secret-0815"


@pytest.fixture
def broken_app() -> FastAPI:
    """The real app with one route added that fails the way a bug would."""
    application = create_app(
        Settings(database_url="memory://", secret_key="test-secret-key-0123456789abcdef")
    )

    @application.post("/api/broken")
    async def broken(request: Request) -> None:
        await request.body()
        raise RuntimeError("a bug")

    return application


@pytest.fixture
def base_url(broken_app: FastAPI) -> Iterator[str]:
    with serving(broken_app) as url:
        yield url


def test_a_500_keeps_the_connection_alive(base_url: str) -> None:
    connections: list[object] = []

    def on_connect(event: str, info: dict[str, object]) -> None:
        if event == "connection.connect_tcp.complete":
            connections.append(info["return_value"])

    with httpx.Client(base_url=base_url) as client:
        failed = client.post("/api/broken", json={}, extensions={"trace": on_connect})
        after = client.get("/api/tags", extensions={"trace": on_connect})
        again = client.post("/api/broken", json={}, extensions={"trace": on_connect})

    assert failed.status_code == 500
    assert failed.json() == {"errors": {"server": ["internal error"]}}
    assert failed.headers["content-type"].startswith("application/json")
    assert failed.headers["x-content-type-options"] == "nosniff"
    assert "connection" not in failed.headers or failed.headers["connection"] != "close"
    assert after.status_code == 200
    assert again.status_code == 500
    assert len(connections) == 1, "the client had to reconnect after the 500"


def test_a_500_is_logged_without_the_request(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="broadsheet.web"):
        response = httpx.post(
            f"{base_url}/api/broken?q={SECRET_IN_BODY}",
            json={"password": SECRET_IN_BODY},
            headers={"Authorization": f"Token {SECRET_TOKEN}"},
        )

    assert response.status_code == 500
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "POST /api/broken" in logged
    assert "RuntimeError: a bug" in caplog.text
    assert SECRET_IN_BODY not in caplog.text
    assert SECRET_TOKEN not in caplog.text
