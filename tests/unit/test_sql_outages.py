"""Which driver failures the SQL adapter answers as an outage (503) rather than a bug (500)."""

from __future__ import annotations

import pytest
from sqlalchemy import exc

from broadsheet.storage.sql.availability import outage_reason

# asyncmy on uvloop, the connection reset as it opened (seen in the outage battery).
ASYNCMY_SOCKET_GONE = RuntimeError("Transport does not expose socket instance")
POOL_EMPTY = exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached")
RESET = ConnectionResetError(104, "Connection reset by peer")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ASYNCMY_SOCKET_GONE, "connection lost while connecting"),
        (POOL_EMPTY, "no free database connection in time"),
        (RESET, "cannot connect (Connection reset by peer)"),
        (RuntimeError("something else went wrong"), None),  # a bug stays a 500
        (ValueError("bad"), None),
    ],
)
def test_outages_and_bugs_are_told_apart(error: BaseException, reason: str | None) -> None:
    assert outage_reason(error) == reason
