"""The Argon2id hasher: real hashes, computed off the event loop, a bounded number at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from broadsheet.security import Argon2Hasher, default_hash_concurrency
from broadsheet.settings import Settings


@pytest.fixture
def hasher() -> Iterator[Argon2Hasher]:
    cheap = Argon2Hasher(time_cost=1, memory_kib=1024, concurrency=2)
    yield cheap
    cheap.close()


async def test_hash_and_verify(hasher: Argon2Hasher) -> None:
    digest = await hasher.hash("correct horse")

    assert digest.startswith("$argon2id$")
    assert await hasher.verify(digest, "correct horse") is True
    assert await hasher.verify(digest, "wrong horse") is False
    assert await hasher.verify("not a hash", "correct horse") is False


class StandIn:
    """In place of argon2-cffi's hasher, to see where and how many hashes run."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.running = self.most = 0
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        with self._lock:
            self.threads.append(threading.current_thread().name)
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self._lock:
            self.running -= 1
        return password


async def test_hashes_run_in_the_hashers_threads(
    hasher: Argon2Hasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = StandIn()
    monkeypatch.setattr(hasher, "_argon2", stand_in)

    await hasher.hash("a")

    assert len(stand_in.threads) == 1
    assert stand_in.threads[0].startswith("argon2")
    assert stand_in.threads[0] != threading.current_thread().name


async def test_no_more_than_the_bound_run_at_once(
    hasher: Argon2Hasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = StandIn()
    monkeypatch.setattr(hasher, "_argon2", stand_in)

    assert await asyncio.gather(*(hasher.hash(str(n)) for n in range(8))) == [
        str(n) for n in range(8)
    ]

    assert stand_in.most == hasher.concurrency == 2


def test_the_bound_comes_from_the_settings_or_the_cpus() -> None:
    assert default_hash_concurrency() >= 1
    assert Settings(hash_concurrency=3).hash_concurrency == 3
    assert Argon2Hasher(concurrency=None).concurrency == default_hash_concurrency()
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Settings(hash_concurrency=0)
