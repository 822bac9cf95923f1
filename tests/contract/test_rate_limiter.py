"""The ``RateLimiter`` port over ``limits``: counted in process and in Redis alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from limits import parse
from redis.asyncio import ConnectionPool

from broadsheet.domain.errors import RateLimited
from broadsheet.domain.models import RateLimit
from broadsheet.domain.ports import RateLimiter
from broadsheet.ratelimit import LimitsRateLimiter
from tests.conftest import REDIS_URL

ALLOWANCES = {RateLimit.LOGIN: parse("3/minute"), RateLimit.REGISTRATION: parse("1/hour")}


@pytest.fixture(params=["in process", "redis"])
async def limiter(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[RateLimiter]:
    if request.param == "in process":
        yield LimitsRateLimiter(ALLOWANCES)
        return
    pool = ConnectionPool.from_url(REDIS_URL)
    try:
        yield LimitsRateLimiter(
            ALLOWANCES, redis_pool=pool, key_prefix=f"{redis_prefix}:{uuid.uuid4().hex}"
        )
    finally:
        await pool.aclose()


async def test_the_allowance_then_too_many(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit(RateLimit.LOGIN, "10.0.0.1")

    with pytest.raises(RateLimited) as refused:
        await limiter.hit(RateLimit.LOGIN, "10.0.0.1")
    # A moving window: the first of the three frees its place a minute after it came.
    assert 55 <= refused.value.retry_after <= 60


async def test_keys_and_limits_are_counted_apart(limiter: RateLimiter) -> None:
    await limiter.hit(RateLimit.REGISTRATION, "10.0.0.1")
    with pytest.raises(RateLimited):
        await limiter.hit(RateLimit.REGISTRATION, "10.0.0.1")

    await limiter.hit(RateLimit.REGISTRATION, "10.0.0.2")
    await limiter.hit(RateLimit.LOGIN, "10.0.0.1")


async def test_check_counts_nothing(limiter: RateLimiter) -> None:
    for _ in range(10):
        await limiter.check(RateLimit.LOGIN, "10.0.0.1")
    for _ in range(3):
        await limiter.hit(RateLimit.LOGIN, "10.0.0.1")

    with pytest.raises(RateLimited) as refused:
        await limiter.check(RateLimit.LOGIN, "10.0.0.1")
    assert refused.value.retry_after >= 55


async def test_a_limit_without_an_allowance_is_not_limited(limiter: RateLimiter) -> None:
    for _ in range(20):
        await limiter.hit(RateLimit.WRITE_BY_ACCOUNT, "1")
