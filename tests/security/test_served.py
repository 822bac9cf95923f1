"""``broadsheet serve`` as it runs in production: a real process, real sockets.

Oversized bodies are refused without being read (the server's memory barely moves while five
clients each try to stream 100 MB), the server does not name itself, and HSTS is sent when a
trusted local proxy says the request came over TLS.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer, report

MAX_BODY_BYTES = 1024 * 1024
HUNDRED_MB = 100 * 1024 * 1024
CHUNK = b"x" * (256 * 1024)


@dataclass(frozen=True)
class Served:
    url: str
    host: str
    port: int
    pid: int

    def peak_rss_kib(self) -> int:
        """The process's high-water resident memory (Linux ``VmHWM``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    environment: dict[str, str | None] = {
        "DATABASE_URL": "memory://",
        "BROADSHEET_SECRET_KEY": "test-secret-key-0123456789abcdef",
        "BROADSHEET_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "BROADSHEET_TRUSTED_PROXIES": "127.0.0.1",  # as if a TLS proxy ran on this host
    }
    with LiveServer(environment, workers=1) as server:
        yield Served(url=server.url, host="127.0.0.1", port=server.port, pid=server.pid)


def stream_chunked(served: Served, total: int) -> tuple[bytes, int]:
    """POST a chunked body of up to ``total`` bytes; the response and how much was sent."""
    sent = 0
    with socket.create_connection((served.host, served.port), timeout=10) as connection:
        connection.sendall(
            b"POST /api/users/login HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
        try:
            while sent < total:
                connection.sendall(frame)
                sent += len(CHUNK)
        except OSError:  # the server answered and closed: what it should do
            pass
        return read_response(connection), sent


def read_response(connection: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except OSError:
        pass
    return received


def test_five_streamed_100_mb_bodies_are_refused_without_being_read(served: Served) -> None:
    httpx.get(f"{served.url}/api/tags")  # warm up before measuring
    before = served.peak_rss_kib()
    started = time.monotonic()

    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(lambda _: stream_chunked(served, HUNDRED_MB), range(5)))

    elapsed = time.monotonic() - started
    growth_mib = (served.peak_rss_kib() - before) / 1024
    most = max(sent for _, sent in results) / 2**20
    report(
        "security",
        f"5 x 100 MB chunked bodies, limit 1 MiB: all 413 in {elapsed:.2f}s, at most "
        f"{most:.1f} MiB sent before the server closed, peak RSS +{growth_mib:.1f} MiB",
    )
    for response, sent in results:
        head, _, body = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), response[:200]
        assert b"connection: close" in head.lower()
        assert body.endswith(b'{"errors":{"body":["is too large (maximum is 1048576 bytes)"]}}')
        assert sent < HUNDRED_MB / 4, f"the server kept reading: {sent} bytes went in"
    assert growth_mib < 40, f"peak memory grew by {growth_mib:.0f} MiB"
    assert elapsed < 20
    assert httpx.get(f"{served.url}/api/tags").status_code == 200


def test_a_declared_oversized_body_is_refused_before_it_is_sent(served: Served) -> None:
    with socket.create_connection((served.host, served.port), timeout=5) as connection:
        connection.sendall(
            b"POST /api/users HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {HUNDRED_MB}\r\n\r\n".encode()
        )
        response = read_response(connection)  # no byte of the body was sent

    assert response.startswith(b"HTTP/1.1 413"), response[:200]


def test_a_body_within_the_limit_is_read(served: Served) -> None:
    user = {"username": "amy", "email": "amy@example.com", "password": "password123"}
    token = httpx.post(f"{served.url}/api/users", json={"user": user}).json()["user"]["token"]
    article = {"title": "Long", "description": "d", "body": "€" * 190_000}  # 570 KB of UTF-8
    content = json.dumps({"article": article}, ensure_ascii=False).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    response = httpx.post(f"{served.url}/api/articles", content=content, headers=headers)

    assert response.status_code == 201, response.text


def test_the_server_does_not_name_itself(served: Served) -> None:
    response = httpx.get(f"{served.url}/api/tags")

    assert response.status_code == 200
    assert "server" not in response.headers


def test_hsts_when_a_trusted_local_proxy_reports_tls(served: Served) -> None:
    plain = httpx.get(f"{served.url}/api/tags")
    proxied = httpx.get(f"{served.url}/api/tags", headers={"X-Forwarded-Proto": "https"})

    assert "strict-transport-security" not in plain.headers
    assert proxied.headers["strict-transport-security"].startswith("max-age=")
