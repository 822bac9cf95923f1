"""One error vocabulary for every presenter (HTTP, CLI).

Errors name *what* went wrong in domain words; they carry no status codes. The web layer owns
the single table that turns each class into an HTTP status and the RealWorld error envelope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class BroadsheetError(Exception):
    """Base of every error the domain and services raise on purpose."""


class NotFound(BroadsheetError):
    """The thing named by ``what`` (``article``, ``profile``, ``comment``) does not exist."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class AlreadyExists(BroadsheetError):
    """A unique value is taken; ``field`` names it (``username``, ``email``, ``slug``)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} has already been taken")
        self.field = field


class Forbidden(BroadsheetError):
    """The viewer may not change ``what``: it belongs to someone else."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} forbidden")
        self.what = what


class Suspended(BroadsheetError):
    """The account is suspended by a moderator: it may not sign in."""


class Invalid(BroadsheetError):
    """Input values break rules: ``problems`` maps each bad field to its readable reasons.

    ``Invalid(field, reason)`` names one field; :meth:`of` names several, so a client that
    sent three bad fields hears about all three at once (``rules.Checks`` collects them).
    """

    def __init__(self, field: str, reason: str) -> None:
        self.problems: Mapping[str, tuple[str, ...]] = {field: (reason,)}
        super().__init__(self._describe())

    @classmethod
    def of(cls, problems: Mapping[str, Sequence[str]]) -> Invalid:
        """One error naming every field in ``problems`` (which must not be empty)."""
        if not problems or not all(problems.values()):
            raise ValueError("Invalid needs at least one reason for each field it names")
        field, reasons = next(iter(problems.items()))
        error = cls(field, reasons[0])
        error.problems = {name: tuple(reasons) for name, reasons in problems.items()}
        error.args = (error._describe(),)
        return error

    def _describe(self) -> str:
        return "; ".join(
            f"{field} {reason}" for field, reasons in self.problems.items() for reason in reasons
        )


class Unauthorized(BroadsheetError):
    """The request does not prove who is asking."""


class TokenMissing(Unauthorized):
    """No credentials were sent where they are required."""


class TokenInvalid(Unauthorized):
    """The token is malformed, badly signed, expired or revoked, or names a user who no
    longer exists."""


class InvalidCredentials(Unauthorized):
    """Login with an unknown email or a wrong password (deliberately not saying which)."""


class TransientConflict(BroadsheetError):
    """The store gave up on this unit of work because of a concurrent one (a write conflict,
    a deadlock). Nothing was written; running the use case again is safe."""


class RateLimited(BroadsheetError):
    """A rate limit is used up; one more is allowed in ``retry_after`` seconds (at least 1)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} seconds")
        self.retry_after = max(1, retry_after)


class StoreUnavailable(BroadsheetError):
    """A store the request cannot do without (``store``: the database, Redis) could not be
    reached or did not answer in time (refused, reset, timed out). Whether anything was
    written is unknown only if the commit itself was cut off; the request may be tried again
    once the store is back. ``reason`` is for logs."""

    def __init__(self, reason: str = "unreachable", *, store: str = "database") -> None:
        super().__init__(f"{store} unavailable: {reason}")
        self.reason = reason
        self.store = store


class StoreNotReady(BroadsheetError):
    """The store cannot take a bulk load as it stands: ``reason`` says why (it already holds
    users or articles, or its schema is not the one this version writes) and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
