"""Annotated dependency aliases: the Broadsheet, a unit of work, who is asking, rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from broadsheet.bootstrap import Broadsheet
from broadsheet.domain.errors import TokenInvalid, TokenMissing
from broadsheet.domain.models import RateLimit, TokenClaims
from broadsheet.domain.ports import UnitOfWork
from broadsheet.services import users

_authorization = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="`Token <jwt>` (`Bearer <jwt>` is accepted too)",
)
_SCHEMES = {"token", "bearer"}


@dataclass(frozen=True, slots=True)
class Credentials:
    """A verified, unrevoked token and what it says (its user may since have been deleted)."""

    claims: TokenClaims
    token: str

    @property
    def user_id(self) -> int:
        return self.claims.user_id


def _broadsheet(request: Request) -> Broadsheet:
    broadsheet: Broadsheet = request.app.state.broadsheet
    return broadsheet


App = Annotated[Broadsheet, Depends(_broadsheet)]


def _unit_of_work(broadsheet: App) -> UnitOfWork:
    return broadsheet.unit_of_work()


Uow = Annotated[UnitOfWork, Depends(_unit_of_work)]


async def _optional_credentials(
    broadsheet: App, header: Annotated[str | None, Security(_authorization)]
) -> Credentials | None:
    """No header: anonymous. A header that does not hold a valid token: 401, never anonymous."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in _SCHEMES or not token:
        raise TokenInvalid
    claims = await users.authenticate(
        tokens=broadsheet.tokens, revocations=broadsheet.revocations, token=token
    )
    return Credentials(claims=claims, token=token)


def _required_credentials(
    credentials: Annotated[Credentials | None, Depends(_optional_credentials)],
) -> Credentials:
    if credentials is None:
        raise TokenMissing
    return credentials


Viewer = Annotated[Credentials, Depends(_required_credentials)]
MaybeViewer = Annotated[Credentials | None, Depends(_optional_credentials)]


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


def viewer_id(viewer: Credentials | None) -> int | None:
    return None if viewer is None else viewer.user_id
