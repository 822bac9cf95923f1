"""Which SQL errors mean "the database is not there right now", for every dialect.

They become ``StoreUnavailable`` (a 503 with Retry-After), never a 500: connection refused,
reset or lost, a connect or statement timeout, a server shutting down or out of connections,
an empty pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc

from broadsheet.domain.errors import StoreUnavailable

# PostgreSQL: query_canceled (statement_timeout), admin/crash shutdown, cannot connect now,
# too many connections; class 08 is "connection exception".
_POSTGRESQL_SQLSTATES = {"57014", "57P01", "57P02", "57P03", "53300"}
# MariaDB/MySQL: can't connect (2002, 2003), server gone (2006), lost connection (2013, 2055),
# too many connections (1040), max_statement_time exceeded (1969).
_MYSQL_CODES = {2002, 2003, 2006, 2013, 2055, 1040, 1969}
# asyncmy, on uvloop, when the server resets the connection while it is being opened: uvloop's
# closed transport has no socket left for asyncmy to set keep-alive on (asyncio's still does,
# and the failure is an OSError there).
_ASYNCMY_SOCKET_GONE = "Transport does not expose socket instance"


def outage_reason(error: BaseException | None) -> str | None:
    """A short reason when ``error`` says the database is unreachable or too slow."""
    if error is None:
        return None
    if isinstance(error, exc.TimeoutError):  # the pool's, not a statement's
        return "no free database connection in time"
    if isinstance(error, exc.DBAPIError):
        original = error.orig
        if error.connection_invalidated:
            return f"connection lost ({type(original).__name__})"
        sqlstate = str(getattr(original, "sqlstate", "") or "")
        if sqlstate in _POSTGRESQL_SQLSTATES or sqlstate.startswith("08"):
            return f"server error {sqlstate}"
        code = original.args[0] if original is not None and original.args else None
        if isinstance(code, int) and code in _MYSQL_CODES:
            return f"server error {code}"
        return outage_reason(original) if isinstance(original, OSError | TimeoutError) else None
    sqlstate = str(getattr(error, "sqlstate", "") or "")  # the driver's own (the bulk COPY)
    if sqlstate in _POSTGRESQL_SQLSTATES or sqlstate.startswith("08"):
        return f"server error {sqlstate}"
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    if isinstance(error, RuntimeError) and str(error) == _ASYNCMY_SOCKET_GONE:
        return "connection lost while connecting"
    if isinstance(error, ConnectionError | OSError):
        return f"cannot connect ({error.strerror or type(error).__name__})"
    return None


def as_store_unavailable(error: BaseException | None) -> StoreUnavailable | None:
    reason = outage_reason(error)
    return None if reason is None else StoreUnavailable(reason)


@asynccontextmanager
async def outages_as_store_unavailable() -> AsyncIterator[None]:
    """For work outside a unit of work (ping, migrations, the schema check)."""
    try:
        yield
    except Exception as error:
        if (unavailable := as_store_unavailable(error)) is not None:
            raise unavailable from error
        raise
