"""Password hashing (Argon2id) and tokens (JWT, HS256): the security ports' implementations."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from broadsheet.domain.errors import TokenInvalid


def default_hash_concurrency() -> int:
    """One hash per CPU this process may use, less one kept for the event loop."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


class Argon2Hasher:
    """Argon2id; argon2-cffi's defaults are RFC 9106's low-memory profile (t=3, 64 MiB).

    A hash costs tenths of a second of CPU, so it never runs on the event loop: each one
    runs in this hasher's own pool of ``concurrency`` threads (argon2-cffi releases the GIL),
    and further requests wait their turn there. A login flood then occupies at most that
    many cores and the loop keeps serving everything else.
    """

    def __init__(
        self, *, time_cost: int = 3, memory_kib: int = 65536, concurrency: int | None = None
    ) -> None:
        self._argon2 = Argon2(time_cost=time_cost, memory_cost=memory_kib)
        self.concurrency = concurrency or default_hash_concurrency()
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="argon2")

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._argon2.hash, password
        )

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._check, password_hash, password
        )

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def close(self) -> None:
        """Let queued hashes finish in the background; start no new threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class JwtCodec:
    """Signed, expiring tokens whose subject is the user id."""

    algorithm = "HS256"

    def __init__(self, secret: str, *, ttl: timedelta) -> None:
        self._secret = secret
        self._ttl = ttl

    def issue(self, user_id: int) -> str:
        now = datetime.now(UTC)
        claims = {"sub": str(user_id), "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm=self.algorithm)

    def read(self, token: str) -> int:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                options={"require": ["exp", "sub"]},
            )
            return int(claims["sub"])
        except (jwt.PyJWTError, ValueError):
            raise TokenInvalid from None
