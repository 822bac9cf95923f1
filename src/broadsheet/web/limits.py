"""A bound on request bodies, enforced before the app reads a byte of them.

A declared ``Content-Length`` over the limit is refused before the body is read; a chunked
body is counted as it arrives and refused as soon as it passes the limit. Either way the
answer is a 413 in the error envelope and the connection is closed, so the rest is never read.
Starlette's ``RequestBodyLimitMiddleware`` does the same counting but answers in plain text,
outside the API's error shape.

The body is read here, whole, before the app runs (it is at most the limit): the app reads
every JSON body whole anyway, and this way no inner layer sees a half-read body.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.web.errors import body_too_large


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await body_too_large(self.max_bytes)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before it finished sending
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await body_too_large(self.max_bytes)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
