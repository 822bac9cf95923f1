"""The composition root: settings in, a running Broadsheet (storage, security, limits, clock) out.

The web app and the CLI both start here, so they share one way of wiring things up.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from broadsheet.domain.models import RateLimit
from broadsheet.domain.ports import (
    Clock,
    PageCache,
    PasswordHasher,
    RateLimiter,
    Storage,
    TokenCodec,
    TokenRevocations,
    UnitOfWork,
)
from broadsheet.pagecache import NoPageCache, RedisPageCache
from broadsheet.ratelimit import LimitsRateLimiter, NoRateLimits
from broadsheet.security import Argon2Hasher, JwtCodec
from broadsheet.settings import Settings, parse_rate
from broadsheet.storage import ConnectionOptions, open_storage
from broadsheet.storage.redis import RedisTokenRevocations
from broadsheet.storage.sql.urls import sqlite_file

log = logging.getLogger("broadsheet")
MIN_SECRET_LENGTH = 32
# The name the generated signing key is stored under, in the database itself.
SIGNING_KEY = "token_signing_key"


class ConfigurationError(RuntimeError):
    """The settings cannot work; the message says what to set."""


class SchemaNotReady(ConfigurationError):
    """The database's schema is not the one this Broadsheet needs; the message says why."""


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
    pages: PageCache
    clock: Clock

    def unit_of_work(self) -> UnitOfWork:
        return self.storage.unit_of_work()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Broadsheet]:
    """Open the storage, make sure its schema is current (migrating it where the settings
    say so), agree on the signing key, and close the storage after.

    Raises ``ConfigurationError`` (``SchemaNotReady``) or ``StoreUnavailable``.
    """
    configured_secret(settings)  # fail before connecting
    storage = open_storage(settings.database_url, connection_options(settings))
    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        concurrency=settings.hash_concurrency,
    )
    redis_pool = _redis_pool(settings)
    try:
        await ensure_schema(settings, storage)
        secret = await signing_secret(settings, storage)
        revocations: TokenRevocations = storage.token_revocations()
        if redis_pool is not None:
            revocations = RedisTokenRevocations(
                Redis(connection_pool=redis_pool), prefix=settings.redis_key_prefix
            )
        yield Broadsheet(
            settings=settings,
            storage=storage,
            hasher=hasher,
            tokens=JwtCodec(secret, ttl=timedelta(minutes=settings.token_ttl_minutes)),
            revocations=revocations,
            limiter=rate_limiter(settings, redis_pool),
            pages=page_cache(settings, redis_pool),
            clock=SystemClock(),
        )
    finally:
        try:
            hasher.close()
            if redis_pool is not None:
                await redis_pool.aclose()
        finally:
            await storage.close()


def _redis_pool(settings: Settings) -> ConnectionPool | None:
    """One pool for the rate limits, the revoked tokens and the page cache; nothing connects
    until used."""
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


def page_cache(settings: Settings, redis_pool: ConnectionPool | None) -> PageCache:
    """Only in Redis: answers kept inside one process could not be invalidated by a write
    that another worker or instance served."""
    if redis_pool is None or not settings.page_cache:
        return NoPageCache()
    return RedisPageCache(
        Redis(connection_pool=redis_pool),
        prefix=settings.redis_key_prefix,
        seconds=settings.page_cache_seconds,
    )


async def invalidate_pages(settings: Settings) -> None:
    """For a command that wrote outside a request (``db check --repair``)."""
    redis_pool = _redis_pool(settings)
    try:
        await page_cache(settings, redis_pool).invalidate()
    finally:
        if redis_pool is not None:
            await redis_pool.aclose()


def connection_options(settings: Settings) -> ConnectionOptions:
    return ConnectionOptions(
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
        sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_size=settings.db_pool_size,
        pool_overflow=settings.db_pool_overflow,
        server_selection_timeout=settings.mongo_server_selection_timeout_seconds,
        tally_queries=settings.server_timing,
    )


def check_workers(settings: Settings, workers: int) -> None:
    """Several worker processes need a store they can share."""
    if workers > 1 and settings.database_url.startswith("memory"):
        raise ConfigurationError(
            "memory:// keeps everything inside one process, so each worker would have its "
            "own users and articles: serve it with --workers 1, or use a database"
        )


async def ensure_schema(settings: Settings, storage: Storage) -> None:
    """Migrate (when ``BROADSHEET_AUTO_MIGRATE`` or the embedded default says so), else
    refuse a database whose schema is missing, behind or unknown."""
    if settings.migrate_on_start:
        await storage.migrate()
    if (problem := await storage.schema_problem()) is not None:
        raise SchemaNotReady(f"the database is not ready: {problem}")


def configured_secret(settings: Settings) -> str | None:
    """``BROADSHEET_SECRET_KEY``, checked; ``None`` when unset outside production."""
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
    return None


async def signing_secret(settings: Settings, storage: Storage) -> str:
    """``BROADSHEET_SECRET_KEY``, or else one generated key kept in the database itself, so
    every worker and every instance signs and verifies with the same key, across restarts.

    SQLite installs from before kept their key in ``<database>.secret``: that key is the one
    stored on first start, so tokens already issued stay valid (the file is no longer read
    once the database has the key).
    """
    if (secret := configured_secret(settings)) is not None:
        return secret
    return await storage.shared_secret(SIGNING_KEY, _legacy_secret(settings) or _new_secret())


def _new_secret() -> str:
    return secrets.token_urlsafe(48)


def _legacy_secret(settings: Settings) -> str | None:
    database = sqlite_file(settings.database_url)
    if database is None:
        return None
    path = database.with_name(database.name + ".secret")
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
