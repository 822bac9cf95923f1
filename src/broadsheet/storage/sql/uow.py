"""One unit of work = one connection and one transaction."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadsheet.domain.errors import TransientConflict
from broadsheet.storage.sql.analytics import SqlAnalytics
from broadsheet.storage.sql.articles import SqlArticles
from broadsheet.storage.sql.audit import SqlAuditLog
from broadsheet.storage.sql.availability import as_store_unavailable
from broadsheet.storage.sql.comments import SqlComments
from broadsheet.storage.sql.dialects import as_transient_conflict
from broadsheet.storage.sql.favorites import SqlFavorites
from broadsheet.storage.sql.follows import SqlFollows
from broadsheet.storage.sql.graph import SqlGraph
from broadsheet.storage.sql.subscriptions import SqlTagSubscriptions
from broadsheet.storage.sql.tags import SqlTags
from broadsheet.storage.sql.users import SqlUsers

READ_ONLY = "broadsheet_read_only"  # an execution option: this connection writes no more


class WriterQueue:
    """SQLite: a process's writers take the database's one write lock in turn, in order.

    A SQLite connection that finds the write lock taken polls for it, sleeping up to 100 ms
    between tries (its busy handler), so sixteen writers of one worker kept missing each
    other's release: writes took seconds at the 99th percentile. Queued here, each writer of
    a worker begins as soon as the one before it is done; only writers of different worker
    processes still meet in SQLite's busy handler. Waiting longer than the busy timeout is a
    ``TransientConflict``, as a lock SQLite itself gave up on is.
    """

    def __init__(self, *, timeout: float) -> None:
        self._lock = asyncio.Lock()
        self._timeout = timeout

    async def join(self) -> None:
        try:
            await asyncio.wait_for(self._lock.acquire(), self._timeout)
        except TimeoutError:
            raise TransientConflict from None

    def leave(self) -> None:
        self._lock.release()


class SqlUnitOfWork:
    users: SqlUsers
    follows: SqlFollows
    articles: SqlArticles
    favorites: SqlFavorites
    comments: SqlComments
    tags: SqlTags
    analytics: SqlAnalytics
    graph: SqlGraph
    subscriptions: SqlTagSubscriptions
    audit: SqlAuditLog

    def __init__(self, engine: AsyncEngine, writers: WriterQueue | None = None) -> None:
        self._engine = engine
        self._writers = writers
        self._writing = False  # holds its place at the head of the writers' queue
        self._connection: AsyncConnection | None = None
        self._read_only = False

    def read_only(self) -> Self:
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        if self._writers is not None and not self._read_only:
            await self._writers.join()  # before a pooled connection: none waits idle
            self._writing = True
        try:
            connection = await self._engine.connect()
        except Exception as error:
            self._leave_writers()
            raise _translated(error) from error
        try:
            await self._begin(connection)
        except BaseException as error:
            await _close_quietly(connection)
            self._leave_writers()
            # SQLite's "database is locked" past the busy timeout at BEGIN IMMEDIATE: another
            # writer held the lock; nothing has happened yet, so the use case may run again.
            raise _translated(error) from error
        self._connection = connection
        self.users = SqlUsers(connection)
        self.follows = SqlFollows(connection)
        self.articles = SqlArticles(connection)
        self.favorites = SqlFavorites(connection)
        self.comments = SqlComments(connection)
        self.tags = SqlTags(connection)
        self.analytics = SqlAnalytics(connection)
        self.graph = SqlGraph(connection)
        self.subscriptions = SqlTagSubscriptions(connection)
        self.audit = SqlAuditLog(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await self._end(connection, exc)
        finally:
            self._leave_writers()
        if exc is not None and (translated := _translated(exc)) is not exc:
            raise translated from exc

    async def _end(self, connection: AsyncConnection, exc: BaseException | None) -> None:
        if exc is not None and as_store_unavailable(exc) is not None:
            await _close_quietly(connection)  # the rollback would wait on a dead connection
        else:
            try:
                try:
                    if connection.in_transaction():
                        await connection.rollback()
                finally:
                    await connection.close()
            except Exception as error:
                if (unavailable := as_store_unavailable(error)) is None:
                    raise
                raise unavailable from exc or error

    def _leave_writers(self) -> None:
        if self._writing:
            self._writing = False
            assert self._writers is not None
            self._writers.leave()

    async def _begin(self, connection: AsyncConnection) -> None:
        """A transaction for a use case that writes. One that only reads takes no write lock
        (SQLite: a deferred BEGIN reads one WAL snapshot beside the writer) and, on
        PostgreSQL, no transaction at all: each statement reads committed data, and the
        BEGIN and ROLLBACK round trips are saved."""
        if not self._read_only:
            await connection.begin()
        elif connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            await connection.execution_options(**{READ_ONLY: True})
            await connection.begin()

    async def commit(self) -> None:
        """An outage here means the commit may or may not have happened (503 either way)."""
        if self._read_only:
            raise RuntimeError("commit() in a read-only unit of work")
        if self._connection is None:
            raise RuntimeError("commit() outside `async with unit_of_work`")
        await self._connection.commit()
        self._leave_writers()  # the write lock is released: the next writer may begin
        # Reads after the commit begin a new transaction of their own; it only reads.
        await self._connection.execution_options(**{READ_ONLY: True})


def _translated(error: BaseException) -> BaseException:
    """The domain error a driver error stands for, or the error itself."""
    return as_transient_conflict(error) or as_store_unavailable(error) or error


async def _close_quietly(connection: AsyncConnection) -> None:
    """Give the connection back; the pool drops it if it is broken. Errors here would only
    hide the one being reported."""
    with contextlib.suppress(Exception):
        await connection.invalidate()
