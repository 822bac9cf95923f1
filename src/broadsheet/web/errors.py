"""THE status table: domain errors and request-validation errors to RealWorld error bodies.

Every error response has the shape ``{"errors": {"<key>": ["<message>"]}}``. Nothing else in
the web layer picks a status code for an error, and no response carries a trace, SQL or
driver text: anything unexpected becomes a bare 500 and is logged server-side.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from broadsheet.domain import rules
from broadsheet.domain.errors import (
    AlreadyExists,
    BroadsheetError,
    Forbidden,
    Invalid,
    InvalidCredentials,
    NotFound,
    StoreUnavailable,
    TokenMissing,
    TransientConflict,
    Unauthorized,
)

log = logging.getLogger("broadsheet.web")


def envelope(key: str, message: str) -> dict[str, dict[str, list[str]]]:
    return {"errors": {key: [message]}}


def status_and_body(error: BroadsheetError) -> tuple[int, dict[str, dict[str, list[str]]]]:
    match error:
        case NotFound(what=what):
            return 404, envelope(what, "not found")
        case Forbidden(what=what):
            return 403, envelope(what, "forbidden")
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
        case StoreUnavailable():
            return 503, envelope("database", "is unavailable; try again shortly")
        case TransientConflict():
            return 503, envelope("request", "conflicted with concurrent changes; try again")
    return 400, envelope("request", "cannot be processed")


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BroadsheetError)
    status, body = status_and_body(error)
    headers = {401: {"WWW-Authenticate": "Token"}, 503: {"Retry-After": "1"}}.get(status)
    return JSONResponse(body, status_code=status, headers=headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors: dict[str, list[str]] = {}
    for problem in error.errors():
        field, message = _field_and_message(problem)
        errors.setdefault(field, []).append(message)
    return JSONResponse({"errors": errors}, status_code=422)


def _field_and_message(problem: dict[str, object]) -> tuple[str, str]:
    location = problem.get("loc")
    parts: tuple[object, ...] = (
        location if isinstance(location, tuple) and location else ("request",)
    )
    # parts[0] is where (body, query, path); the last name after it is the field.
    names = [part for part in parts[1:] if isinstance(part, str)]
    field = names[-1] if names else str(parts[0])
    kind = problem.get("type")
    if kind == "json_invalid":
        return "body", "is not valid JSON"
    if kind == "missing":
        return field, rules.BLANK
    message = str(problem.get("msg", "is invalid"))
    return field, message[:1].lower() + message[1:]


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return JSONResponse(
        envelope("request", str(error.detail).lower()),
        status_code=error.status_code,
        headers=error.headers,
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(envelope("server", "internal error"), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(BroadsheetError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
