"""The headers every response gets, decided from its request: one pure-ASGI middleware.

It wraps everything else (CORS preflights, errors, 413s and 500s included), so no response
leaves without them. A route that needs its own policy (the docs page) sets the header itself;
nothing here overrides a header that is already there, except ``Cache-Control`` on responses
that carry a token.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.web.errors import INVALID_TOKEN_CHALLENGE

# The JSON API is never a document: it may load nothing, be framed nowhere, submit nowhere.
API_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # An API has no navigation that needs a referrer; a URL can name a user or a draft slug.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": API_CONTENT_SECURITY_POLICY,
}
# One year; subdomains are the operator's decision, so they are not included.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
# The endpoints whose responses carry a token, with or without an Authorization header.
TOKEN_ENDPOINTS = frozenset({"/api/users", "/api/users/login", "/api/user"})
_TOKEN_REJECTED = "broadsheet.token_rejected"


def mark_token_rejected(request: Request) -> None:
    """The request sent a token that was not accepted, and is being answered as anonymous."""
    request.scope[_TOKEN_REJECTED] = True


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        no_store = "authorization" in request_headers or scope["path"] in TOKEN_ENDPOINTS
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if no_store:
                    headers["Cache-Control"] = "no-store"
                if over_tls:
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
                if scope.get(_TOKEN_REJECTED) and "www-authenticate" not in headers:
                    headers["WWW-Authenticate"] = INVALID_TOKEN_CHALLENGE
            await send(message)

        await self.app(scope, receive, send_with_headers)
