"""The revoked-token tables keep only what could still matter: each write purges rows whose
tokens have expired, along the ``expires_at`` index; the check itself is one statement (on
SQLite without ``BEGIN IMMEDIATE``, which would take the write lock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select

from broadsheet.storage.sql import SqlStorage
from broadsheet.storage.sql.tables import revoked_token, token_cutoff
from tests.contract.test_token_revocations import token


async def _count(storage: SqlStorage) -> tuple[int, int]:
    async with storage.engine.connect() as connection:
        tokens = (
            await connection.execute(select(func.count()).select_from(revoked_token))
        ).scalar()
        cutoffs = (
            await connection.execute(select(func.count()).select_from(token_cutoff))
        ).scalar()
    return int(tokens or 0), int(cutoffs or 0)


async def _emptied(sql_url: str) -> SqlStorage:
    storage = SqlStorage(sql_url)
    async with storage.engine.begin() as connection:
        await connection.execute(revoked_token.delete())
        await connection.execute(token_cutoff.delete())
    return storage


async def test_a_write_purges_expired_entries(sql_url: str) -> None:
    storage = await _emptied(sql_url)
    revocations = storage.token_revocations()
    now = datetime.now(UTC)
    expired = now - timedelta(seconds=1)
    try:
        async with storage.engine.begin() as connection:
            await connection.execute(
                revoked_token.insert().values(token_id="expired", expires_at=expired)
            )
            await connection.execute(
                token_cutoff.insert().values(user_id=1, issued_before=expired, expires_at=expired)
            )
        assert await _count(storage) == (1, 1)

        await revocations.revoke("current", until=now + timedelta(hours=1))

        assert await _count(storage) == (1, 0)
        assert await revocations.is_revoked(token(token_id="current"))
        assert not await revocations.is_revoked(token(token_id="expired"))
    finally:
        await storage.close()


async def test_the_check_is_one_statement_and_takes_no_lock(sql_url: str) -> None:
    storage = await _emptied(sql_url)
    statements: list[str] = []
    event.listen(
        storage.engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement),
    )
    try:
        assert not await storage.token_revocations().is_revoked(token())
    finally:
        await storage.close()

    assert len(statements) == 1, statements  # on SQLite, no BEGIN IMMEDIATE
    assert statements[0].lstrip().startswith("SELECT")
