"""Rate limits over the ``limits`` library's asyncio API: a moving window per key, counted in
Redis when one is configured (one count for every worker and instance), in process otherwise.

A Redis outage does not fail requests, nor switch the limits off: the limiter counts in
process for a few seconds, then tries Redis again. Each process then enforces the limits on
its own, so a burst can get through once per worker, but nobody gets a 500 or a 429 that a
working Redis would not have given. (Failing closed would take the whole API down with
Redis; failing fully open would leave login unthrottled exactly while the limiter is hurt.)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from broadsheet.domain.errors import RateLimited
from broadsheet.domain.models import RateLimit

log = logging.getLogger("broadsheet.ratelimit")
T = TypeVar("T")

REDIS_RETRY_SECONDS = 5.0  # how long to count in process after Redis failed


class LimitsRateLimiter:
    """``allowances`` gives each limit its rate; a limit left out is not limited."""

    def __init__(
        self,
        allowances: Mapping[RateLimit, RateLimitItem],
        *,
        redis_pool: ConnectionPool | None = None,
        key_prefix: str = "broadsheet",
    ) -> None:
        self._allowances = dict(allowances)
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if redis_pool is not None:
            storage = RedisStorage(
                "async+redis://",  # the pool decides where; limits wants a URI all the same
                implementation="redispy",
                # Typed as scalars in limits, but its redis-py bridge takes a pool: one pool
                # (and one set of timeouts) shared with the revoked-token list.
                connection_pool=redis_pool,  # type: ignore[arg-type]
                key_prefix=f"{key_prefix}:limits",
                wrap_exceptions=True,
            )
            self._shared = MovingWindowRateLimiter(storage)
        self._shared_down_until = 0.0

    async def hit(self, limit: RateLimit, key: str) -> None:
        item = self._allowances.get(limit)
        if item is not None and not await self._count(lambda s: s.hit(item, limit.value, key)):
            raise RateLimited(await self._retry_after(item, limit, key))

    async def check(self, limit: RateLimit, key: str) -> None:
        item = self._allowances.get(limit)
        if item is not None and not await self._count(lambda s: s.test(item, limit.value, key)):
            raise RateLimited(await self._retry_after(item, limit, key))

    async def _retry_after(self, item: RateLimitItem, limit: RateLimit, key: str) -> int:
        stats = await self._count(lambda s: s.get_window_stats(item, limit.value, key))
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _count(self, operation: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            try:
                result = await operation(self._shared)
            except StorageError as error:
                if self._shared_down_until == 0.0:
                    log.warning("rate limits: Redis failed (%s); counting in process", error)
                self._shared_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            else:
                if self._shared_down_until:
                    log.warning("rate limits: counting in Redis again")
                    self._shared_down_until = 0.0
                return result
        return await operation(self._local)


class NoRateLimits:
    """``BROADSHEET_RATE_LIMITS=off``: nothing is counted."""

    async def hit(self, limit: RateLimit, key: str) -> None:
        pass

    async def check(self, limit: RateLimit, key: str) -> None:
        pass
