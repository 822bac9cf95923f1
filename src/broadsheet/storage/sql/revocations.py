"""Revoked tokens in the database, for deployments without Redis.

The check runs on every authenticated request, so it is one primary-key ``SELECT``. On SQLite
it runs in autocommit, since a transaction there opens with ``BEGIN IMMEDIATE`` and would take
the database's write lock for a read; on the servers a plain read transaction measured as fast
or faster (MariaDB pays two ``SET autocommit`` round trips to switch a pooled connection).
Writes are rare (logout, password change) and purge expired rows as they go, along the
``expires_at`` index: the tables hold only what could still matter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadsheet.domain.errors import StoreUnavailable
from broadsheet.domain.models import TokenClaims
from broadsheet.storage.sql.availability import outages_as_store_unavailable
from broadsheet.storage.sql.dialects import insert_if_absent
from broadsheet.storage.sql.tables import revoked_token, token_cutoff


class SqlTokenRevocations:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        sqlite = engine.dialect.name == "sqlite"
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT") if sqlite else engine

    async def revoke(self, token_id: str, *, until: datetime) -> None:
        async with _unreachable_as_unavailable(), self._engine.begin() as connection:
            await _purge(connection)
            await connection.execute(
                insert_if_absent(
                    connection, revoked_token, {"token_id": token_id, "expires_at": until}
                )
            )

    async def revoke_issued_before(
        self,
        user_id: int,
        instant: datetime,
        *,
        until: datetime,
        spared_token_id: str | None = None,
    ) -> None:
        cutoff = token_cutoff.c
        async with _unreachable_as_unavailable(), self._engine.begin() as connection:
            await _purge(connection)
            row = {
                "user_id": user_id,
                "issued_before": instant,
                "spared_token_id": spared_token_id,
                "expires_at": until,
            }
            await connection.execute(insert_if_absent(connection, token_cutoff, row))
            # The row existed: move it forward only, so the latest instant (with the token it
            # spares) wins; at the same instant, two different spared tokens spare neither.
            await connection.execute(
                update(token_cutoff)
                .where(cutoff.user_id == user_id, cutoff.issued_before < instant)
                .values(issued_before=instant, spared_token_id=spared_token_id, expires_at=until)
            )
            await connection.execute(
                update(token_cutoff)
                .where(
                    cutoff.user_id == user_id,
                    cutoff.issued_before == instant,
                    cutoff.spared_token_id.is_distinct_from(spared_token_id),
                )
                .values(spared_token_id=None)
            )

    async def is_revoked(self, claims: TokenClaims) -> bool:
        query = select(
            or_(
                exists().where(revoked_token.c.token_id == claims.token_id),
                exists().where(
                    token_cutoff.c.user_id == claims.user_id,
                    token_cutoff.c.issued_before > claims.issued_at,
                    token_cutoff.c.spared_token_id.is_distinct_from(claims.token_id),
                ),
            )
        )
        async with _unreachable_as_unavailable(), self._reads.connect() as connection:
            return bool((await connection.execute(query)).scalar())


@asynccontextmanager
async def _unreachable_as_unavailable() -> AsyncIterator[None]:
    """Every outage (an empty pool included) as the adapter's units of work report it; any
    other driver-level failure of this lookup too: a token check never becomes a 500."""
    try:
        async with outages_as_store_unavailable():
            yield
    except (OperationalError, InterfaceError, OSError) as error:
        raise StoreUnavailable(type(error).__name__) from error


async def _purge(connection: AsyncConnection) -> None:
    now = datetime.now(UTC)
    await connection.execute(delete(revoked_token).where(revoked_token.c.expires_at < now))
    await connection.execute(delete(token_cutoff).where(token_cutoff.c.expires_at < now))
