"""SQLite's writers queue in process for the database's one write lock (``WriterQueue``):
they take it in turn, readers never wait in that queue, and a writer that waits longer than
the busy timeout gives up as SQLite itself would, with ``TransientConflict``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from broadsheet.domain.errors import TransientConflict
from broadsheet.domain.models import NewUser
from broadsheet.storage import ConnectionOptions
from broadsheet.storage.sql import SqlStorage
from tests import databases


@pytest.fixture
def sqlite_url(database_urls: dict[str, str]) -> str:
    return database_urls["sqlite"]  # created here, outside any test's event loop


@pytest.fixture
async def sqlite(sqlite_url: str) -> AsyncIterator[SqlStorage]:
    storage = SqlStorage(sqlite_url, ConnectionOptions(sqlite_busy_timeout=0.3))
    await databases.empty(storage)
    try:
        yield storage
    finally:
        await databases.empty(storage)
        await storage.close()


def _user(name: str) -> NewUser:
    return NewUser(username=name, email=f"{name}@example.com", password_hash="h")


async def test_writers_of_one_process_take_the_lock_in_turn_and_all_commit(
    sqlite: SqlStorage,
) -> None:
    order: list[tuple[str, int]] = []

    async def write(number: int) -> None:
        async with sqlite.unit_of_work() as uow:
            order.append(("begin", number))
            await uow.users.add(_user(f"writer{number}"))
            await asyncio.sleep(0.005)  # inside the transaction: others must wait
            await uow.commit()
            order.append(("commit", number))

    await asyncio.gather(*(write(number) for number in range(12)))

    # One at a time: every begin is followed by its own commit before the next begins.
    pairs = list(zip(order[0::2], order[1::2], strict=True))
    assert all(begun == ("begin", n) and ("commit", n) == done for begun, done in pairs
               for n in [begun[1]])  # fmt: skip
    assert sorted(begun[1] for begun, _ in pairs) == list(range(12))
    async with sqlite.unit_of_work().read_only() as uow:
        found = [await uow.users.get_by_username(f"writer{n}") for n in range(12)]
    assert all(user is not None for user in found)


async def test_a_reader_does_not_wait_for_a_writer(sqlite: SqlStorage) -> None:
    async with sqlite.unit_of_work() as writer:
        await writer.users.add(_user("held"))
        async with sqlite.unit_of_work().read_only() as reader:
            seen = await reader.users.get_by_username("held")
        await writer.commit()

    assert seen is None  # the reader's snapshot is from before the write committed


async def test_a_writer_queued_past_the_busy_timeout_gives_up_with_a_transient_conflict(
    sqlite: SqlStorage,
) -> None:
    async with sqlite.unit_of_work():
        with pytest.raises(TransientConflict):
            async with sqlite.unit_of_work():
                pass

    async with sqlite.unit_of_work() as after:  # the queue is free again
        await after.users.add(_user("after"))
        await after.commit()


async def test_queued_writers_hold_no_pooled_connection(sqlite_url: str) -> None:
    """One pooled connection, four writers at once: each waits its turn in the queue, not
    holding a connection the pool would then run out of (a 503 after the pool timeout)."""
    options = ConnectionOptions(
        sqlite_busy_timeout=5, pool_size=1, pool_overflow=0, pool_timeout=0.2
    )
    storage = SqlStorage(sqlite_url, options)
    await databases.empty(storage)

    async def write(number: int) -> None:
        async with storage.unit_of_work() as uow:
            await uow.users.add(_user(f"queued{number}"))
            await asyncio.sleep(0.1)  # longer than the pool timeout, in all
            await uow.commit()

    try:
        await asyncio.gather(*(write(number) for number in range(4)))
    finally:
        await databases.empty(storage)
        await storage.close()
