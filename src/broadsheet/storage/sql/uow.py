"""One unit of work = one connection and one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadsheet.storage.sql.articles import SqlArticles
from broadsheet.storage.sql.comments import SqlComments
from broadsheet.storage.sql.dialects import as_transient_conflict
from broadsheet.storage.sql.favorites import SqlFavorites
from broadsheet.storage.sql.follows import SqlFollows
from broadsheet.storage.sql.tags import SqlTags
from broadsheet.storage.sql.users import SqlUsers

READ_ONLY = "broadsheet_read_only"  # an execution option: this connection writes no more


class SqlUnitOfWork:
    users: SqlUsers
    follows: SqlFollows
    articles: SqlArticles
    favorites: SqlFavorites
    comments: SqlComments
    tags: SqlTags

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.users = SqlUsers(connection)
        self.follows = SqlFollows(connection)
        self.articles = SqlArticles(connection)
        self.favorites = SqlFavorites(connection)
        self.comments = SqlComments(connection)
        self.tags = SqlTags(connection)
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
            if connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()
        if (conflict := as_transient_conflict(exc)) is not None:
            raise conflict from exc

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit() outside `async with unit_of_work`")
        await self._connection.commit()
        # Reads after the commit begin a new transaction of their own; it only reads.
        await self._connection.execution_options(**{READ_ONLY: True})
