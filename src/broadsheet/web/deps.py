"""Annotated dependency aliases: the Broadsheet, a unit of work, who is asking, rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from broadsheet.bootstrap import Broadsheet
from broadsheet.domain.errors import TokenInvalid, TokenMissing
from broadsheet.domain.models import RateLimit, TokenClaims
from broadsheet.domain.ports import UnitOfWork
from broadsheet.services import users
from broadsheet.web import headers

_authorization = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    auto_error=False,
    description="`Token <jwt>` (`Bearer <jwt>` is accepted too)",
)
_SCHEMES = {"token", "bearer"}
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A verified, unrevoked token and what it says (its user may since have been deleted)."""

    claims: TokenClaims
    token: str

    @property
    def user_id(self) -> int:
        return self.claims.user_id


# Every dependency is ``async def``: FastAPI runs a plain ``def`` one in its thread pool, a
# hand-off to another thread and back on every request (tests/api/test_no_thread_pool.py).
async def _broadsheet(request: Request) -> Broadsheet:
    broadsheet: Broadsheet = request.app.state.broadsheet
    return broadsheet


App = Annotated[Broadsheet, Depends(_broadsheet)]


async def _unit_of_work(broadsheet: App) -> UnitOfWork:
    return broadsheet.unit_of_work()


Uow = Annotated[UnitOfWork, Depends(_unit_of_work)]


async def _verified(broadsheet: Broadsheet, header: str) -> Credentials:
    """The credentials in an ``Authorization`` header, or TokenInvalid (revoked ones too)."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in _SCHEMES or not token:
        raise TokenInvalid
    claims = await users.authenticate(
        tokens=broadsheet.tokens, revocations=broadsheet.revocations, token=token
    )
    return Credentials(claims=claims, token=token)


async def _required_credentials(
    broadsheet: App, header: Annotated[str | None, Security(_authorization)]
) -> Credentials:
    """No header: 401 "is missing". A header that does not hold a valid token: 401 "is invalid"."""
    if header is None:
        raise TokenMissing
    return await _verified(broadsheet, header)


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads a route open to anyone: signed in, or anonymous.

    A token that does not verify (bad, expired, revoked, another key's, an unknown scheme) or
    whose user is gone reads as anonymous, and the response says so (``WWW-Authenticate: Token
    error="invalid_token"``): a client that logs its user out must still be able to read.
    """

    credentials: Credentials | None
    request: Request

    async def read(self, use_case: Callable[[int | None], Awaitable[T]]) -> T:
        """``use_case(viewer_id)``; once more as anonymous if the token's user no longer exists.

        The services find that out with the lookup they make anyway, so a valid token costs no
        extra round trip; only a token of a deleted user pays for a second run.
        """
        if self.credentials is None:
            return await use_case(None)
        try:
            return await use_case(self.credentials.user_id)
        except TokenInvalid:
            headers.mark_token_rejected(self.request)
            return await use_case(None)


async def _reader(
    request: Request, broadsheet: App, header: Annotated[str | None, Security(_authorization)]
) -> Reader:
    if header is None:
        return Reader(credentials=None, request=request)
    try:
        return Reader(credentials=await _verified(broadsheet, header), request=request)
    except TokenInvalid:
        headers.mark_token_rejected(request)
        return Reader(credentials=None, request=request)


Viewer = Annotated[Credentials, Depends(_required_credentials)]
MaybeViewer = Annotated[Reader, Depends(_reader)]


def client_address(request: Request) -> str:
    """The peer, or the client a trusted proxy forwarded for (see ``app.py``)."""
    return request.client.host if request.client is not None else "unknown"


async def _rate_limited_writer(request: Request, broadsheet: App, viewer: Viewer) -> Credentials:
    # The account first: a write it is refused does not use up its neighbours' allowance.
    await broadsheet.limiter.hit(RateLimit.WRITE_BY_ACCOUNT, str(viewer.user_id))
    await broadsheet.limiter.hit(RateLimit.WRITE_BY_ADDRESS, client_address(request))
    return viewer


# A signed-in user changing something: counted per address and per account.
Writer = Annotated[Credentials, Depends(_rate_limited_writer)]


def rate_limited(limit: RateLimit) -> Any:
    """A route dependency counting the request against ``limit`` for the client address."""

    async def count(request: Request, broadsheet: App) -> None:
        await broadsheet.limiter.hit(limit, client_address(request))

    return Depends(count)
