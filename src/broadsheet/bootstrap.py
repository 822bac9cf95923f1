"""The composition root: settings in, a running Broadsheet (storage, security, clock) out.

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

from broadsheet.domain.ports import Clock, PasswordHasher, Storage, TokenCodec, UnitOfWork
from broadsheet.security import Argon2Hasher, JwtCodec
from broadsheet.settings import Settings
from broadsheet.storage import open_storage
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
    clock: Clock

    def unit_of_work(self) -> UnitOfWork:
        return self.storage.unit_of_work()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Broadsheet]:
    """Open the storage (migrating the embedded default on first start) and close it after."""
    secret = signing_secret(settings)
    storage = open_storage(settings.database_url)
    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        concurrency=settings.hash_concurrency,
    )
    try:
        if settings.migrate_on_start:
            await storage.migrate()
        yield Broadsheet(
            settings=settings,
            storage=storage,
            hasher=hasher,
            tokens=JwtCodec(secret, ttl=timedelta(minutes=settings.token_ttl_minutes)),
            clock=SystemClock(),
        )
    finally:
        hasher.close()
        await storage.close()


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
