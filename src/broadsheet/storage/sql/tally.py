"""Statements into the request's tally (``broadsheet.telemetry``), counted at the engine.

Counted as the statement budgets in ``tests/sql`` count them: every statement the driver
executes, less the ``BEGIN`` SQLite's units of work open with (transaction control, not a
query); its time, the wait for SQLite's write lock included, is database time and is added.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from broadsheet.telemetry import current_tally

_STARTED = "broadsheet.statement_started"  # in the connection's info: one statement at a time


def tally_statements(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def started(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if (tally := current_tally()) is not None:
            if statement.lstrip()[:5].upper() != "BEGIN":
                tally.add(queries=1)
            connection.info[_STARTED] = perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def finished(connection: Connection, *_args: Any) -> None:
        _add_time(connection)

    @event.listens_for(engine.sync_engine, "handle_error")
    def failed(context: ExceptionContext) -> None:
        if context.connection is not None:
            _add_time(context.connection)


def _add_time(connection: Connection) -> None:
    started = connection.info.pop(_STARTED, None)
    if started is not None and (tally := current_tally()) is not None:
        tally.add(seconds=perf_counter() - started)
