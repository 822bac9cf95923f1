"""Revoked tokens in Redis (when ``BROADSHEET_REDIS_URL`` is set): every worker and instance
sees a logout at once, and Redis forgets each entry by itself when its tokens expire.

Keys, under the configured prefix: ``<prefix>:revoked-token:<jti>`` (logout) and
``<prefix>:revoked-before:<user id>`` holding milliseconds since the epoch (a password
change). The check is one ``MGET`` of both; the cut-off moves forward only (a Lua script),
whatever order two password changes arrive in. Redis unreachable is ``StoreUnavailable``: a
revocation check that cannot be answered fails the request rather than letting a logged-out
token back in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from broadsheet.domain.errors import StoreUnavailable
from broadsheet.domain.models import TokenClaims

# Set the cut-off only if later than the one stored; keep the key until the later expiry.
_MOVE_CUTOFF_FORWARD = """
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
local instant = tonumber(ARGV[1])
local until_ms = tonumber(ARGV[2])
local expires = redis.call('PEXPIRETIME', KEYS[1])
if expires > until_ms then until_ms = expires end
if instant < stored then instant = stored end
redis.call('SET', KEYS[1], instant, 'PXAT', until_ms)
"""


def _milliseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


class RedisTokenRevocations:
    def __init__(self, client: Redis, *, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._move_cutoff_forward = client.register_script(_MOVE_CUTOFF_FORWARD)

    async def revoke(self, token_id: str, *, until: datetime) -> None:
        async with _unreachable_as_unavailable():
            await self._client.set(self._token_key(token_id), 1, pxat=_milliseconds(until))

    async def revoke_issued_before(
        self, user_id: int, instant: datetime, *, until: datetime
    ) -> None:
        async with _unreachable_as_unavailable():
            await self._move_cutoff_forward(
                keys=[self._user_key(user_id)],
                args=[_milliseconds(instant), _milliseconds(until)],
            )

    async def is_revoked(self, claims: TokenClaims) -> bool:
        async with _unreachable_as_unavailable():
            token, cutoff = await self._client.mget(
                [self._token_key(claims.token_id), self._user_key(claims.user_id)]
            )
        return token is not None or (
            cutoff is not None and _milliseconds(claims.issued_at) < int(cutoff)
        )

    def _token_key(self, token_id: str) -> str:
        return f"{self._prefix}:revoked-token:{token_id}"

    def _user_key(self, user_id: int) -> str:
        return f"{self._prefix}:revoked-before:{user_id}"


@asynccontextmanager
async def _unreachable_as_unavailable() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as error:  # unreachable, timed out, or refusing writes
        raise StoreUnavailable(type(error).__name__, store="redis") from error
