"""Which PyMongo errors mean "the database is not there right now".

They become ``StoreUnavailable`` (a 503 with Retry-After), never a 500: no server selectable
in time, a connection refused, reset or timed out, an operation past its time limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError

from broadsheet.domain.errors import StoreUnavailable


def outage_reason(error: BaseException | None) -> str | None:
    if not isinstance(error, PyMongoError):
        return None
    if isinstance(error, ConnectionFailure | ExecutionTimeout | WTimeoutError) or error.timeout:
        return f"{type(error).__name__}" + (" (timed out)" if error.timeout else "")
    return None


def as_store_unavailable(error: BaseException | None) -> StoreUnavailable | None:
    reason = outage_reason(error)
    return None if reason is None else StoreUnavailable(reason)


@asynccontextmanager
async def outages_as_store_unavailable() -> AsyncIterator[None]:
    try:
        yield
    except PyMongoError as error:
        if (unavailable := as_store_unavailable(error)) is not None:
            raise unavailable from error
        raise
