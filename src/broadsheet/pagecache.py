"""Anonymous answers kept in Redis (``BROADSHEET_REDIS_URL``), one generation at a time.

Keys, under the configured prefix: ``<prefix>:pages:generation`` holds a random token, and
``<prefix>:pages:<generation>:<path?query>`` an answer, expiring after a few seconds
(``BROADSHEET_PAGE_CACHE_SECONDS``) so the cache stays small. A write replaces the token
(``invalidate``); the answers of older generations are never read again and expire. The token
is random rather than a counter: if Redis loses it (a restart, an eviction), a new one cannot
meet an answer of an earlier life.

A look-up is one round trip (a script that reads the generation, starting one if there is
none, and the answer under it). A Redis that fails or stalls is a miss, never an error, and
reads skip the cache for a few seconds after; writes always try to invalidate.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("broadsheet.pagecache")
REDIS_RETRY_SECONDS = 5.0  # after a failed look-up, how long reads skip the cache

# KEYS[1] the generation; ARGV[1] a new token in case there is none, ARGV[2] the answers'
# prefix, ARGV[3] the page key. (One Redis, not a cluster: the answer's key is built here.)
_LOOK_UP = """
local generation = redis.call('GET', KEYS[1])
if not generation then
  generation = ARGV[1]
  redis.call('SET', KEYS[1], generation)
end
return {generation, redis.call('GET', ARGV[2] .. generation .. ':' .. ARGV[3])}
"""


def _token() -> str:
    return secrets.token_hex(8)


class RedisPageCache:
    def __init__(self, client: Redis, *, prefix: str, seconds: int) -> None:
        self._client = client
        self._generation_key = f"{prefix}:pages:generation"
        self._answers = f"{prefix}:pages:"
        self._seconds = seconds
        self._look_up = client.register_script(_LOOK_UP)
        self._down_until = 0.0

    async def look_up(self, key: str) -> tuple[str, bytes | None] | None:
        if time.monotonic() < self._down_until:
            return None  # a stalled Redis would otherwise cost every read its timeout
        try:
            generation, body = await self._look_up(
                keys=[self._generation_key], args=[_token(), self._answers, key]
            )
        except RedisError:
            self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
            return None
        return generation.decode(), body

    async def keep(self, generation: str, key: str, body: bytes) -> None:
        with contextlib.suppress(RedisError):  # the next reader computes it again
            await self._client.set(f"{self._answers}{generation}:{key}", body, ex=self._seconds)

    async def invalidate(self) -> None:
        try:
            await self._client.set(self._generation_key, _token())
        except RedisError:
            # The write stands; readers that still reach Redis may see kept answers until
            # they expire. Said loudly, since it is the one way the cache can be stale.
            log.error(
                "could not start a new page-cache generation; kept answers may be served "
                "for up to %d s",
                self._seconds,
            )


class NoPageCache:
    """No Redis, or the cache switched off: every read goes to the store."""

    async def look_up(self, key: str) -> tuple[str, bytes | None] | None:
        return None

    async def keep(self, generation: str, key: str, body: bytes) -> None:
        pass

    async def invalidate(self) -> None:
        pass
