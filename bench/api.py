"""A few HTTP requests outside the load (picking targets, tokens, one probe per scenario),
with the standard library only: the benchmark talks to Broadsheet as any client does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ApiError(RuntimeError):
    pass


def request(
    base_url: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: str | None = None,
    timeout: float = 60,
) -> Response:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    prepared = urllib.request.Request(
        base_url + path,
        method=method,
        headers=headers,
        data=None if body is None else body.encode(),
    )
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as answer:
            return Response(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def expect(response: Response, what: str, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status``."""
    if response.status != status:
        raise ApiError(f"{what}: {response.status} {response.body[:300]!r}")
    return response.json()
