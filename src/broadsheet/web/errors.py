"""THE status table: domain errors and request-validation errors to RealWorld error bodies.

Every error response has the shape ``{"errors": {"<key>": ["<message>"]}}``. Nothing else in
the web layer picks a status code for an error, and no response carries a trace, SQL or
driver text: anything unexpected becomes a bare 500 and is logged server-side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.domain import rules
from broadsheet.domain.errors import (
    AlreadyExists,
    BroadsheetError,
    Forbidden,
    Invalid,
    InvalidCredentials,
    NotFound,
    RateLimited,
    StoreUnavailable,
    Suspended,
    TokenInvalid,
    TokenMissing,
    TransientConflict,
    Unauthorized,
)

log = logging.getLogger("broadsheet.web")

ErrorBody = dict[str, dict[str, list[str]]]
# RFC 6750's challenge: a client can tell "send a token" from "this token is no good".
TOKEN_CHALLENGE = "Token"
INVALID_TOKEN_CHALLENGE = 'Token error="invalid_token"'
# Set by web.json_body when a body is valid JSON nested deeper than the parser follows.
NESTED_TOO_DEEPLY = "nested too deeply"
NOT_UTF8 = "not UTF-8"


def envelope(key: str, message: str) -> ErrorBody:
    return {"errors": {key: [message]}}


def status_and_body(error: BroadsheetError) -> tuple[int, ErrorBody]:
    match error:
        case NotFound(what=what):
            return 404, envelope(what, "not found")
        case Forbidden(what=what):
            return 403, envelope(what, "forbidden")
        case Suspended():
            return 403, envelope("account", "is suspended")
        case AlreadyExists(field=field):
            return 409, envelope(field, "has already been taken")
        case Invalid(problems=problems):
            return 422, {"errors": {field: list(reasons) for field, reasons in problems.items()}}
        case TokenMissing():
            return 401, envelope("token", "is missing")
        case InvalidCredentials():
            return 401, envelope("credentials", "invalid")
        case Unauthorized():
            return 401, envelope("token", "is invalid")
        case StoreUnavailable(store=store):
            return 503, envelope(store, "is unavailable; try again shortly")
        case TransientConflict():
            return 503, envelope("request", "conflicted with concurrent changes; try again")
        case RateLimited(retry_after=seconds):
            return 429, envelope("request", f"too many requests; retry after {seconds} seconds")
    return 400, envelope("request", "cannot be processed")


def _headers_for(error: BroadsheetError, status: int) -> dict[str, str] | None:
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, TokenInvalid):
        return {"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}
    if status == 401:
        return {"WWW-Authenticate": TOKEN_CHALLENGE}
    if status == 503:
        return {"Retry-After": "1"}
    return None


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BroadsheetError)
    status, body = status_and_body(error)
    return JSONResponse(body, status_code=status, headers=_headers_for(error, status))


# --- request validation -------------------------------------------------------------------

# Pydantic's error types, said the way the RealWorld envelope says things.
_TYPE_MESSAGES = {
    "string_type": "must be a string",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_unicode": "must be a string",
}


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """Every bad field named once, each of its messages once, in the order found."""
    assert isinstance(error, RequestValidationError)
    errors: dict[str, list[str]] = {}
    for problem in error.errors():
        field, message = _field_and_message(problem)
        messages = errors.setdefault(field, [])
        if message not in messages:
            messages.append(message)
    return JSONResponse({"errors": errors}, status_code=422)


def _field_and_message(problem: dict[str, object]) -> tuple[str, str]:
    """``("body", "article", "tagList", 0)`` is the field ``tagList``, "item 0 must be ...".

    A body is ``{"<wrapper>": {<fields>}}``: position 1 names the wrapper, position 2 the field.
    Query, path and header values are named by position 1.
    """
    location = problem.get("loc")
    parts: tuple[object, ...] = (
        location if isinstance(location, tuple) and location else ("request",)
    )
    kind = str(problem.get("type", ""))
    if kind == "json_invalid":
        return "body", _json_message(problem)
    where, path = parts[0], parts[1:]
    if where == "body":
        return _body_field_and_message(kind, path, problem)
    field = str(path[0]) if path else str(where)
    return field, _message(kind, problem)


def _body_field_and_message(
    kind: str, path: tuple[object, ...], problem: dict[str, object]
) -> tuple[str, str]:
    if not path:  # the body as a whole
        if kind == "missing":
            return "body", "is missing: send a JSON object"
        if isinstance(problem.get("input"), bytes):  # FastAPI leaves non-JSON bodies as bytes
            return "body", "must be JSON, sent with Content-Type: application/json"
        return "body", "must be a JSON object"
    wrapper = str(path[0])
    if len(path) == 1:
        if kind == "missing":
            return wrapper, f'is missing: send {{"{wrapper}": {{...}}}}'
        return wrapper, _message(kind, problem)
    field, within = str(path[1]), path[2:]
    if kind == "missing":
        return field, rules.BLANK
    return field, " ".join([*_positions(within), _message(kind, problem)])


def _positions(within: Iterable[object]) -> list[str]:
    return [f"item {part}" if isinstance(part, int) else f"key {part!r}" for part in within]


def _message(kind: str, problem: dict[str, object]) -> str:
    if kind == "missing":
        return rules.BLANK
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    message = str(problem.get("msg", "is invalid"))
    return message[:1].lower() + message[1:]


def _json_message(problem: dict[str, object]) -> str:
    context = problem.get("ctx")
    reason = str(context.get("error", "")) if isinstance(context, dict) else ""
    if reason == NESTED_TOO_DEEPLY:
        return "is nested too deeply"
    if reason == NOT_UTF8:
        return "is not UTF-8"
    location = problem.get("loc")
    position = location[1] if isinstance(location, tuple) and len(location) > 1 else None
    detail = reason[:1].lower() + reason[1:]
    if detail and isinstance(position, int):
        return f"is not valid JSON ({detail} at character {position})"
    return "is not valid JSON"


# --- routing and transport errors ---------------------------------------------------------


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
        body = envelope("method", f"{request.method} is not allowed here")
    else:
        body = envelope("request", str(error.detail).lower())
    return JSONResponse(body, status_code=error.status_code, headers=headers or None)


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (the router names only the first one's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods, key=lambda m: _METHOD_ORDER.index(m) if m in _METHOD_ORDER else 99)


def body_too_large(max_bytes: int) -> JSONResponse:
    """413; the connection is closed after it, so the rest of the body is never read."""
    return JSONResponse(
        envelope("body", f"is too large (maximum is {max_bytes} bytes)"),
        status_code=413,
        headers={"Connection": "close"},
    )


class ServerErrors:
    """The last error boundary: an unexpected exception is logged and answered with a 500.

    Starlette's own boundary re-raises after answering, so the server drops the connection and
    a pooled client loses its next request too. This one does not re-raise (unless the response
    had already started, when only closing the connection can tell the client). The log names
    the method and path and carries the traceback; never the headers, query or body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            response = JSONResponse(envelope("server", "internal error"), status_code=500)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(BroadsheetError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
