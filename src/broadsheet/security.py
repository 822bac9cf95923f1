"""Password hashing (Argon2id) and tokens (JWT, HS256): the security ports' implementations."""

from __future__ import annotations

import asyncio
import math
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from broadsheet.domain.errors import TokenInvalid
from broadsheet.domain.models import TokenClaims


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
    """Signed, expiring tokens whose subject is the user id.

    Each token has its own id (``jti``), so one token can be revoked (logout), and an
    ``iat`` with milliseconds (a JWT NumericDate may have a fraction), so "every token
    issued before this password change" also separates tokens issued within one second.
    """

    algorithm = "HS256"

    def __init__(self, secret: str, *, ttl: timedelta) -> None:
        self._secret = secret
        self._ttl = ttl

    def issue(self, user_id: int) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "jti": secrets.token_urlsafe(16),
            "iat": _numeric_date(now),
            "exp": _numeric_date(now + self._ttl),
        }
        return jwt.encode(claims, self._secret, algorithm=self.algorithm)

    def read(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                # Tokens from before revocation existed have no jti: they cannot be logged
                # out, so they are not accepted either.
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
            token_id = claims["jti"]
            if not isinstance(token_id, str) or not token_id:
                raise ValueError("jti must be a string")
            return TokenClaims(
                user_id=int(claims["sub"]),
                token_id=token_id,
                issued_at=datetime.fromtimestamp(claims["iat"], UTC),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            )
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
            raise TokenInvalid from None


def _numeric_date(moment: datetime) -> float:
    """Seconds since the epoch, cut to the millisecond as every store keeps timestamps (cut,
    not rounded: a token is never issued in the future)."""
    return math.floor(moment.timestamp() * 1000) / 1000
