"""The anonymous read cache in front of the API: one pure-ASGI middleware over a ``PageCache``.

Reads it may answer: ``GET`` of an article list, one article, its comments, the tags and a
profile, sent without an ``Authorization`` header (a signed-in reader's answer says what
*they* favorited and follow, so it is neither read from nor put in the cache). Only a 200
JSON answer is kept, and not a large one.

Writes: an unsafe request that succeeded (2xx), or failed in a way that leaves its outcome in
doubt (5xx), starts a new generation *before* its response is sent, so no reader anywhere is
served an answer from before a write it could know about. A refused write (4xx) changed
nothing: its unit of work rolled back. Signing in and out change nothing anyone else reads.

A served answer says so in ``Cache-Status`` (RFC 9211): ``broadsheet; hit`` or
``broadsheet; fwd=miss; stored``.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.domain.ports import PageCache

CACHEABLE = re.compile(
    r"/api/(articles|articles/(?!feed$)[^/]+|articles/[^/]+/comments|tags|profiles/[^/]+"
    r"|profiles/[^/]+/stats|search|analytics/tags|analytics/trending)"
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writes to nothing an anonymous reader sees: signing in and out, a reader's tag subscriptions.
PRIVATE_WRITES = re.compile(r"/api/users/log(in|out)|/api/tags/.+/subscription")
MAX_KEY_LENGTH = 1024
MAX_BODY_BYTES = 512 * 1024  # a long article; the cache is for hot pages, not archives


class AnonymousReadCache:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pages: PageCache = scope["app"].state.broadsheet.pages
        method, path = scope["method"], scope["path"]
        if method in UNSAFE and not PRIVATE_WRITES.fullmatch(path):
            try:
                await self.app(scope, receive, _invalidating_before_start(send, pages))
            except BaseException:
                await pages.invalidate()  # a 500 on its way: the write may have committed
                raise
        elif method == "GET" and (key := _cache_key(scope)) is not None:
            await self._read(scope, receive, send, pages, key)
        else:
            await self.app(scope, receive, send)

    async def _read(
        self, scope: Scope, receive: Receive, send: Send, pages: PageCache, key: str
    ) -> None:
        found = await pages.look_up(key)
        if found is None:  # the cache cannot say: answer as if it were not there
            await self.app(scope, receive, send)
            return
        generation, body = found
        if body is not None:
            await _send_json(send, body)
            return
        kept = False  # this answer is one to keep: a 200 JSON small enough, by its length
        chunks: list[bytes] = []

        async def keeping(message: Message) -> None:
            nonlocal kept
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                length = headers.get("content-length", "")
                kept = (
                    message["status"] == 200
                    and headers.get("content-type") == "application/json"
                    and length.isdigit()
                    and int(length) <= MAX_BODY_BYTES
                )
                if kept:
                    MutableHeaders(scope=message)["Cache-Status"] = "broadsheet; fwd=miss; stored"
            elif message["type"] == "http.response.body" and kept:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await pages.keep(generation, key, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, keeping)


def _cache_key(scope: Scope) -> str | None:
    path: str = scope["path"]
    if CACHEABLE.fullmatch(path) is None:
        return None
    headers = Headers(scope=scope)
    if "authorization" in headers:
        return None
    query: bytes = scope.get("query_string", b"")
    key = f"{path}?{query.decode('latin-1')}" if query else path
    return key if len(key) <= MAX_KEY_LENGTH else None


def _invalidating_before_start(send: Send, pages: PageCache) -> Send:
    async def invalidating(message: Message) -> None:
        if message["type"] == "http.response.start":
            status: int = message["status"]
            if status < 400 or status >= 500:
                await pages.invalidate()
        await send(message)

    return invalidating


async def _send_json(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-status", b"broadsheet; hit"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
