"""The composition root: settings in, a running Broadsheet (storage, security, limits, clock) out.

The web app and the CLI both start here, so they share one way of wiring things up.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from broadsheet.domain.models import RateLimit
from broadsheet.domain.ports import (
    Clock,
    PasswordHasher,
    RateLimiter,
    Storage,
    TokenCodec,
    TokenRevocations,
    UnitOfWork,
)
from broadsheet.ratelimit import LimitsRateLimiter, NoRateLimits
from broadsheet.security import Argon2Hasher, JwtCodec
from broadsheet.settings import Settings, parse_rate
from broadsheet.storage import open_storage
from broadsheet.storage.redis import RedisTokenRevocations
from broadsheet.storage.sql.urls import sqlite_file

log = logging.getLogger("broadsheet")
MIN_SECRET_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The settings cannot work; the message says what to set."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Broadsheet:
    """Everything a use case may need, built once per process."""

    settings: Settings
    storage: Storage
    hasher: PasswordHasher
    tokens: TokenCodec
    revocations: TokenRevocations
    limiter: RateLimiter
    clock: Clock

    def unit_of_work(self) -> UnitOfWork:
        return self.storage.unit_of_work()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Broadsheet]:
    """Open the storage (migrating the embedded default on first start) and close it after."""
    secret = signing_secret(settings)
    storage = open_storage(settings.database_url)
    redis_pool = _redis_pool(settings)
    try:
        if settings.migrate_on_start:
            await storage.migrate()
        revocations: TokenRevocations = storage.token_revocations()
        if redis_pool is not None:
            revocations = RedisTokenRevocations(
                Redis(connection_pool=redis_pool), prefix=settings.redis_key_prefix
            )
        yield Broadsheet(
            settings=settings,
            storage=storage,
            hasher=Argon2Hasher(
                time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
            ),
            tokens=JwtCodec(secret, ttl=timedelta(minutes=settings.token_ttl_minutes)),
            revocations=revocations,
            limiter=rate_limiter(settings, redis_pool),
            clock=SystemClock(),
        )
    finally:
        try:
            if redis_pool is not None:
                await redis_pool.aclose()
        finally:
            await storage.close()


def _redis_pool(settings: Settings) -> ConnectionPool | None:
    """One pool for the rate limits and the revoked tokens; nothing connects until used."""
    if settings.redis_url is None:
        return None
    timeout = settings.redis_timeout_seconds
    return ConnectionPool.from_url(
        settings.redis_url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        # Once more at once (a pooled connection may predate a Redis restart), then give up:
        # redis-py's default backs off for seconds, and a request would wait all that time.
        retry=Retry(NoBackoff(), retries=1),
    )


def rate_limiter(settings: Settings, redis_pool: ConnectionPool | None) -> RateLimiter:
    if not settings.rate_limits:
        return NoRateLimits()
    allowances = {
        RateLimit.LOGIN: settings.rate_limit_login,
        RateLimit.LOGIN_FAILURE: settings.rate_limit_login_failures,
        RateLimit.REGISTRATION: settings.rate_limit_registration,
        RateLimit.WRITE_BY_ACCOUNT: settings.rate_limit_writes_per_account,
        RateLimit.WRITE_BY_ADDRESS: settings.rate_limit_writes_per_address,
    }
    return LimitsRateLimiter(
        {limit: parse_rate(rate) for limit, rate in allowances.items()},
        redis_pool=redis_pool,
        key_prefix=settings.redis_key_prefix,
    )


def signing_secret(settings: Settings) -> str:
    """``BROADSHEET_SECRET_KEY``; without it, production refuses to start and the embedded
    default keeps a generated secret in a file beside its database, so tokens survive restarts."""
    if settings.secret_key is not None:
        secret = settings.secret_key.get_secret_value()
        if len(secret) < MIN_SECRET_LENGTH:  # HS256 wants a key at least as long as its hash
            raise ConfigurationError(
                f"BROADSHEET_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters long"
            )
        return secret
    if settings.environment == "production":
        raise ConfigurationError(
            "BROADSHEET_SECRET_KEY is not set. In production, set it to a long random value, "
            'e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    database = sqlite_file(settings.database_url)
    if database is None:
        log.warning("BROADSHEET_SECRET_KEY is not set: using a random key for this process only")
        return secrets.token_urlsafe(48)
    return _stored_secret(database.with_name(database.name + ".secret"))


def _stored_secret(path: Path) -> str:
    """Created exclusively (mode 0600), so workers starting together agree on one secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be between creating and writing it
            if secret := path.read_text().strip():
                return secret
            time.sleep(0.01)
        raise ConfigurationError(
            f"{path} is empty: delete it or set BROADSHEET_SECRET_KEY"
        ) from None
    secret = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret
