"""Password hashing (Argon2id) and tokens (JWT, HS256): the security ports' implementations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from broadsheet.domain.errors import TokenInvalid


class Argon2Hasher:
    """Argon2id; argon2-cffi's defaults are RFC 9106's low-memory profile (t=3, 64 MiB)."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._argon2 = Argon2(time_cost=time_cost, memory_cost=memory_kib)

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


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
