"""Every worker of ``broadsheet serve --workers 2`` verifies every token, across restarts.

Without ``BROADSHEET_SECRET_KEY`` the signing key is generated once and kept in the database;
before, each worker on a server database made its own, and about half the requests with a
token another worker issued were 401s.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.live_server import LiveServer, report

REQUESTS = 40


# memory: one worker only; mongodb-standalone keeps the key as mongodb does.
KEY_BACKENDS = [b for b in BACKENDS if b not in {"memory", "mongodb-standalone"}]


@pytest.fixture(params=KEY_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _statuses(server: LiveServer, token: str) -> list[int]:
    # A new connection for each request, so the kernel spreads them over the workers.
    with httpx.Client(
        base_url=server.url, limits=httpx.Limits(max_keepalive_connections=0), timeout=30
    ) as http:
        return [
            http.get("/api/user", headers={"Authorization": f"Token {token}"}).status_code
            for _ in range(REQUESTS)
        ]


def test_two_workers_and_a_restart_agree_on_the_generated_key(
    backend: str, database_urls: dict[str, str]
) -> None:
    env: dict[str, str | None] = {
        "DATABASE_URL": database_urls[backend],
        "BROADSHEET_SECRET_KEY": None,
    }
    with LiveServer(env, workers=2) as server:
        signed_up = httpx.post(
            server.url + "/api/users",
            json={"user": {"username": "keyholder", "email": "k@x.io", "password": "pw-12345678"}},
            timeout=30,
        )
        assert signed_up.status_code in {200, 201}, signed_up.text
        token = signed_up.json()["user"]["token"]

        first_run = _statuses(server, token)
        server.stop()
        server.start()
        after_restart = _statuses(server, token)

    report(
        "reliability",
        f"signing key {backend}, 2 workers: {first_run.count(200)}/{REQUESTS} OK, "
        f"after a restart {after_restart.count(200)}/{REQUESTS}",
    )
    assert first_run == [200] * REQUESTS
    assert after_restart == [200] * REQUESTS
