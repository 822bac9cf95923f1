"""Password hashing (Argon2id) and tokens (JWT, HS256): the security ports' implementations."""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from broadsheet.domain.errors import TokenInvalid
from broadsheet.domain.models import TokenClaims


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
