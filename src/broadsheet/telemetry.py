"""The database work one request causes: how many statements (or commands), and how long.

The web layer opens a tally around each request (``tallying``) when Server-Timing is on; the
storage adapters' driver hooks add to the current one (``current_tally``). A context variable
carries it, so it follows the request's task through every await and nothing else sees it.
It reaches the places the hooks run: SQLAlchemy's cursor events run inside the greenlet
SQLAlchemy's asyncio bridge starts for each call, and that greenlet runs in the context of
the task awaiting it; PyMongo's command listeners are called from the awaiting task itself.
Work outside a request (a pool's background checks, ``endSessions`` at shutdown) finds no
tally and is not counted. With Server-Timing off, no hook is registered at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class QueryTally:
    """Mutable on purpose: the hooks add to the object the request's context holds."""

    queries: int = 0
    seconds: float = 0.0

    def add(self, *, queries: int = 0, seconds: float = 0.0) -> None:
        self.queries += queries
        self.seconds += seconds


_current: ContextVar[QueryTally | None] = ContextVar("broadsheet_query_tally", default=None)


def current_tally() -> QueryTally | None:
    """The tally of the request running in this context, if one is being kept."""
    return _current.get()


@contextmanager
def tallying() -> Iterator[QueryTally]:
    """A fresh tally for the code run inside the block (one request)."""
    tally = QueryTally()
    token = _current.set(tally)
    try:
        yield tally
    finally:
        _current.reset(token)
