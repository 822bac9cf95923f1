"""The relational bulk loader: a generated site written straight into empty tables.

PostgreSQL takes each batch with ``COPY`` (asyncpg's binary ``copy_records_to_table``, on the
pooled connection's driver) in one transaction, its foreign keys checked once at the end (see
``_CopySink``). SQLite and MariaDB take each batch as one ``executemany`` of a plain INSERT
(on MariaDB the driver makes multi-row INSERTs of it), committing every ``COMMIT_EVERY``
rows. On SQLite the loading connection alone skips waiting for the disk (``PRAGMA
synchronous = OFF``: a crash during the load may lose what it wrote, which a failed load
has to redo anyway) and has a large page cache; it is closed, not pooled, afterwards.
Timestamps are converted as ``UtcDateTime`` binds them; every other value goes as it is.

Ids are written as given. SQLite's AUTOINCREMENT and MariaDB's AUTO_INCREMENT move past them
on their own; PostgreSQL's sequences are moved with ``setval`` at the end.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Dialect, Table, TableClause, bindparam, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import AddConstraint, DropConstraint, ForeignKeyConstraint

from broadsheet.domain import rules
from broadsheet.domain.errors import StoreNotReady
from broadsheet.domain.models import (
    ArticleRecord,
    Comment,
    FavoriteRecord,
    FollowRecord,
    UserRecord,
)
from broadsheet.domain.search import document_terms
from broadsheet.storage.sql import migrations, search
from broadsheet.storage.sql.availability import outages_as_store_unavailable
from broadsheet.storage.sql.tables import (
    ARTICLES_TOTAL,
    article,
    article_tag,
    comment,
    favorite,
    follow,
    site_total,
    tag,
    user_account,
)
from broadsheet.storage.sql.types import UtcDateTime

COMMIT_EVERY = 250_000  # rows per transaction (one transaction on PostgreSQL)
LONG_TIMEOUT = 3_600.0  # seconds for a statement that checks a whole table
SQLITE_CACHE_KIB = 256 * 1024  # the loading connection's page cache
Row = tuple[Any, ...]

# The columns written, in the order of the tuples below.
_USER = ("id", "username", "username_key", "email", "password_hash", "bio", "image",
         "articles_count", "favorites_count")  # fmt: skip
_FOLLOW = ("follower_id", "followee_id")
_TAG = ("name", "articles_count")
# No favorites_count: the schema counts an article's favorites for the page it is listed on.
_ARTICLE = ("id", "slug", "title", "description", "body", "author_id", "created_at",
            "updated_at")  # fmt: skip
_ARTICLE_TAG = ("article_id", "tag", "created_at")
_FAVORITE = ("user_id", "article_id", "article_created_at", "favorited_at")
_COMMENT = ("id", "article_id", "author_id", "body", "created_at", "updated_at")
_SITE_TOTAL = ("name", "value")
_REFERRING = (article, follow, article_tag, favorite, comment)  # the tables with foreign keys


class SqlBulkLoader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sink: _Sink | None = None
        self._written: Counter[str] = Counter()
        self._uncommitted = 0
        self._last_ids: dict[TableClause, int] = {}

    async def __aenter__(self) -> Self:
        async with outages_as_store_unavailable():
            if (problem := await migrations.problem(self._engine)) is not None:
                raise StoreNotReady(f"the database is not ready for a bulk load: {problem}")
            async with self._engine.connect() as connection:
                holds = exists().where(user_account.c.id.is_not(None)) | exists().where(
                    article.c.id.is_not(None)
                )
                if await connection.scalar(select(holds)):
                    raise StoreNotReady(
                        "the database already has users or articles: load into an empty one"
                    )
            connection = await self._engine.connect()
            try:
                if connection.dialect.name == "postgresql":
                    self._sink = await _CopySink.open(connection)
                else:
                    self._sink = await _InsertSink.open(connection)
            except BaseException:
                await connection.close()
                raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            async with outages_as_store_unavailable():
                await sink.close()

    @property
    def written(self) -> Mapping[str, int]:
        return self._written

    async def add_users(self, users: Sequence[UserRecord]) -> None:
        rows = [
            (u.id, u.username, rules.username_key(u.username), u.email, u.password_hash, u.bio,
             u.image, u.articles_count, u.favorites_count)
            for u in users
        ]  # fmt: skip
        await self._write(user_account, _USER, rows)

    async def add_follows(self, follows: Sequence[FollowRecord]) -> None:
        await self._write(follow, _FOLLOW, [(f.follower_id, f.followee_id) for f in follows])

    async def add_tags(self, articles_per_tag: Mapping[str, int]) -> None:
        # Without articles no tag is in use: rows kept (at zero, if the counts are right)
        # would collide with the counts written now.
        async with outages_as_store_unavailable():
            await self._open_sink().clear(tag)
        await self._write(tag, _TAG, list(articles_per_tag.items()))

    async def add_articles(self, articles: Sequence[ArticleRecord]) -> None:
        at = self._open_sink().timestamp
        rows: list[Row] = []
        tags: list[Row] = []
        for a in articles:
            created_at = at(a.created_at)
            rows.append((a.id, a.slug, a.title, a.description, a.body, a.author_id, created_at,
                         at(a.updated_at)))  # fmt: skip
            tags += [(a.id, name, created_at) for name in a.tags]
        await self._write(article, _ARTICLE, rows)
        await self._write(article_tag, _ARTICLE_TAG, tags)
        dialect = self._engine.dialect.name
        searched = search.rows(dialect)
        terms = [
            (a.id, search.stored_terms(dialect, document_terms(a.title, a.description, a.body)))
            for a in articles
        ]
        await self._write(searched, [c.name for c in searched.columns], terms)

    async def add_favorites(self, favorites: Sequence[FavoriteRecord]) -> None:
        at = self._open_sink().timestamp
        rows = [
            (f.user_id, f.article_id, at(f.article_created_at), at(f.favorited_at))
            for f in favorites
        ]
        await self._write(favorite, _FAVORITE, rows)

    async def add_comments(self, comments: Sequence[Comment]) -> None:
        at = self._open_sink().timestamp
        rows = [
            (c.id, c.article_id, c.author_id, c.body, at(c.created_at), at(c.updated_at))
            for c in comments
        ]
        await self._write(comment, _COMMENT, rows)

    async def finish(self, *, articles: int) -> None:
        sink = self._open_sink()
        async with outages_as_store_unavailable():
            await sink.clear(site_total, name=ARTICLES_TOTAL)
        await self._write(site_total, _SITE_TOTAL, [(ARTICLES_TOTAL, articles)])
        async with outages_as_store_unavailable():
            await sink.finish(self._last_ids)

    async def _write(self, table: TableClause, columns: Sequence[str], rows: list[Row]) -> None:
        if not rows:
            return
        sink = self._open_sink()
        async with outages_as_store_unavailable():
            await sink.write(table, columns, rows)
            self._written[table.name] += len(rows)
            if columns[0] == "id":
                self._last_ids[table] = max(self._last_ids.get(table, 0), *(r[0] for r in rows))
            self._uncommitted += len(rows)
            if self._uncommitted >= COMMIT_EVERY:
                await sink.checkpoint()
                self._uncommitted = 0

    def _open_sink(self) -> _Sink:
        if self._sink is None:
            raise RuntimeError("the bulk loader is used outside `async with`")
        return self._sink


class _Sink(ABC):
    """One connection's way of taking many rows, and its transactions. Rows come with their
    timestamps converted by ``timestamp`` (what ``UtcDateTime`` would bind, computed fast:
    it is called for every timestamp of a million rows); every other value as is."""

    timestamp: Callable[[datetime], Any] = staticmethod(lambda moment: moment)

    @abstractmethod
    async def write(self, table: TableClause, columns: Sequence[str], rows: list[Row]) -> None: ...

    @abstractmethod
    async def clear(self, table: Table, **equal: str) -> None:
        """Delete the rows (whose columns have the values ``equal`` gives)."""

    @abstractmethod
    async def checkpoint(self) -> None:
        """Many rows were written since the last call: a sink may commit them."""

    @abstractmethod
    async def finish(self, last_ids: Mapping[TableClause, int]) -> None:
        """Everything is written: make each table's next generated id come after its last
        loaded one, and commit."""

    @abstractmethod
    async def close(self) -> None:
        """Roll back what is not committed and hand the connection back."""


class _CopySink(_Sink):
    """PostgreSQL: ``COPY … FROM STDIN (FORMAT binary)`` through asyncpg itself, in one
    transaction of its own (SQLAlchemy's adapter begins one only when it runs a statement,
    which it never does here).

    As PostgreSQL advises for bulk loads, the foreign keys of the tables filled are dropped
    first and added back at the end: each is then checked once over all its rows, instead of
    by a trigger per row (which costs more than the COPY itself). All of it is one
    transaction, begun at the first write, so a load that fails, a bad reference included,
    leaves nothing behind, not even a missing constraint; until it commits, readers of those
    tables wait.
    """

    def __init__(self, connection: AsyncConnection, driver: Any) -> None:
        self._connection = connection
        self._driver = driver
        self._transaction: Any = None
        self._foreign_keys = sorted(
            (c for t in _REFERRING for c in t.constraints if isinstance(c, ForeignKeyConstraint)),
            key=lambda c: str(c.name),
        )

    @classmethod
    async def open(cls, connection: AsyncConnection) -> _CopySink:
        raw = await connection.get_raw_connection()
        return cls(connection, raw.driver_connection)

    async def _begun(self) -> Any:
        """The driver, in the load's transaction (begun now if not yet)."""
        if self._transaction is None:
            self._transaction = self._driver.transaction()
            await self._transaction.start()
            for constraint in self._foreign_keys:
                await self._driver.execute(self._ddl(DropConstraint(constraint)))
        return self._driver

    def _ddl(self, statement: DropConstraint | AddConstraint) -> str:
        return str(statement.compile(dialect=self._connection.dialect))

    async def write(self, table: TableClause, columns: Sequence[str], rows: list[Row]) -> None:
        driver = await self._begun()
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))

    async def clear(self, table: Table, **equal: str) -> None:
        statement = delete(table).where(*(table.c[name] == value for name, value in equal.items()))
        compiled = statement.compile(dialect=self._connection.dialect)
        values = [compiled.params[name] for name in compiled.positiontup or ()]
        await (await self._begun()).execute(str(compiled), *values)

    async def checkpoint(self) -> None:
        pass  # one transaction: the foreign keys dropped in it come back in it

    async def finish(self, last_ids: Mapping[TableClause, int]) -> None:
        driver = await self._begun()
        # Each check reads a whole table: no statement limit, on the server or here.
        await driver.execute("SET LOCAL statement_timeout = 0")
        for constraint in self._foreign_keys:
            await driver.execute(self._ddl(AddConstraint(constraint)), timeout=LONG_TIMEOUT)
        for table, last_id in last_ids.items():
            # Never backwards: ids of rows deleted before the load are not handed out again.
            sequence = await driver.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table.name)
            await driver.execute(
                f"SELECT setval($1, GREATEST($2, (SELECT CASE WHEN is_called THEN last_value "
                f"ELSE 0 END FROM {sequence})))",
                sequence,
                last_id,
            )
        transaction, self._transaction = self._transaction, None
        await transaction.commit()
        # Fresh planner statistics: until autovacuum gets round to the new rows, PostgreSQL
        # plans as if the tables were empty (at 1M articles the page's tags were read by a
        # sequential scan of article_tag, 213 ms instead of 0.1).
        await driver.execute("ANALYZE", timeout=LONG_TIMEOUT)

    async def close(self) -> None:
        try:
            if self._transaction is not None and not self._driver.is_closed():
                await self._transaction.rollback()
        finally:
            await self._connection.close()


class _InsertSink(_Sink):
    """SQLite and MariaDB: ``executemany`` of one INSERT per table, straight to the driver, on
    a SQLAlchemy connection (which begins each transaction itself, at its first statement)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._statements: dict[tuple[str, tuple[str, ...]], str] = {}
        self._written: set[str] = set()
        self._sqlite = connection.dialect.name == "sqlite"
        self.timestamp = _fast_timestamps(connection.dialect)

    @classmethod
    async def open(cls, connection: AsyncConnection) -> _InsertSink:
        sink = cls(connection)
        if sink._sqlite:
            # Outside any transaction, as the first must be. The second keeps the indexes
            # that take rows in random order (slug, favorites by user) in memory.
            await sink._pragma("synchronous = OFF")
            await sink._pragma(f"cache_size = -{SQLITE_CACHE_KIB}")
        return sink

    async def _pragma(self, setting: str) -> None:
        raw = await self._connection.get_raw_connection()
        assert raw.driver_connection is not None
        await raw.driver_connection.execute(f"PRAGMA {setting}")

    async def write(self, table: TableClause, columns: Sequence[str], rows: list[Row]) -> None:
        self._written.add(table.name)
        await self._connection.exec_driver_sql(self._statement(table, tuple(columns)), rows)

    async def clear(self, table: Table, **equal: str) -> None:
        statement = delete(table).where(*(table.c[name] == value for name, value in equal.items()))
        await self._connection.execute(statement)

    def _statement(self, table: TableClause, columns: tuple[str, ...]) -> str:
        key = (table.name, columns)
        if key not in self._statements:
            dialect = self._connection.dialect
            compiled = (
                insert(table).values({c: bindparam(c) for c in columns}).compile(dialect=dialect)
            )
            assert compiled.positiontup == list(columns)
            for name in columns:  # values go to the driver as they are, but for timestamps
                column_type = table.c[name].type
                processed = column_type.dialect_impl(dialect).bind_processor(dialect) is not None
                if processed and not isinstance(column_type, UtcDateTime):
                    raise RuntimeError(f"{table.name}.{name} needs its values converted")
            self._statements[key] = str(compiled)
        return self._statements[key]

    async def checkpoint(self) -> None:
        await self._connection.commit()  # the next statement begins the next transaction

    async def finish(self, last_ids: Mapping[TableClause, int]) -> None:
        await self._connection.commit()  # AUTOINCREMENT and AUTO_INCREMENT follow by themselves
        if not self._sqlite and self._written:
            # InnoDB recomputes its statistics in the background once a tenth of a table has
            # changed; the first requests after a load should not depend on when. (SQLite
            # plans these queries from its indexes alone: there is no sqlite_stat1 to keep.)
            names = ", ".join(sorted(self._written))
            await self._connection.exec_driver_sql(f"ANALYZE TABLE {names}")

    async def close(self) -> None:
        try:
            if self._connection.in_transaction():
                await self._connection.rollback()
            if self._sqlite:  # its settings were for the load: the pool opens a new one
                await self._connection.invalidate()
        finally:
            await self._connection.close()


def _fast_timestamps(dialect: Dialect) -> Callable[[datetime], Any]:
    """What ``UtcDateTime`` binds on SQLite (naive UTC text with six decimals) and MariaDB
    (naive UTC), at a fraction of the cost; checked against the type itself once."""
    if dialect.name == "sqlite":

        def convert(moment: datetime) -> Any:
            return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    else:

        def convert(moment: datetime) -> Any:
            return moment.astimezone(UTC).replace(tzinfo=None)

    typed = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    sample = datetime(2024, 2, 29, 23, 59, 58, 7000, tzinfo=UTC)
    expected = typed(sample) if typed is not None else sample.replace(tzinfo=None)
    if convert(sample) != expected:
        raise RuntimeError(f"timestamps on {dialect.name} are no longer bound as {expected!r}")
    return convert
