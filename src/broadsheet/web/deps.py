"""Annotated dependency aliases: the Broadsheet, a unit of work, and who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from broadsheet.bootstrap import Broadsheet
from broadsheet.domain.errors import TokenInvalid, TokenMissing
from broadsheet.domain.ports import UnitOfWork

_authorization = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="`Token <jwt>` (`Bearer <jwt>` is accepted too)",
)
_SCHEMES = {"token", "bearer"}


@dataclass(frozen=True, slots=True)
class Credentials:
    """A verified token and the user id it names (the user may since have been deleted)."""

    user_id: int
    token: str


def _broadsheet(request: Request) -> Broadsheet:
    broadsheet: Broadsheet = request.app.state.broadsheet
    return broadsheet


App = Annotated[Broadsheet, Depends(_broadsheet)]


def _unit_of_work(broadsheet: App) -> UnitOfWork:
    return broadsheet.unit_of_work()


Uow = Annotated[UnitOfWork, Depends(_unit_of_work)]


def _optional_credentials(
    broadsheet: App, header: Annotated[str | None, Security(_authorization)]
) -> Credentials | None:
    """No header: anonymous. A header that does not hold a valid token: 401, never anonymous."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in _SCHEMES or not token:
        raise TokenInvalid
    return Credentials(user_id=broadsheet.tokens.read(token), token=token)


def _required_credentials(
    credentials: Annotated[Credentials | None, Depends(_optional_credentials)],
) -> Credentials:
    if credentials is None:
        raise TokenMissing
    return credentials


Viewer = Annotated[Credentials, Depends(_required_credentials)]
MaybeViewer = Annotated[Credentials | None, Depends(_optional_credentials)]


def viewer_id(viewer: Credentials | None) -> int | None:
    return None if viewer is None else viewer.user_id
