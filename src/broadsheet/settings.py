"""The one settings object, read from the environment (``DATABASE_URL`` and ``BROADSHEET_*``)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated, Literal

from limits import RateLimitItem, parse_many
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///broadsheet.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROADSHEET_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "BROADSHEET_DATABASE_URL", "database_url"),
        description=(
            "sqlite:///file.db (default broadsheet.db), postgresql://…, mysql://…, "
            "mongodb://… or memory://"
        ),
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        validation_alias=AliasChoices("BROADSHEET_ENV", "BROADSHEET_ENVIRONMENT", "environment"),
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs tokens. Required in production."
    )
    token_ttl_minutes: int = Field(default=60 * 24 * 7, gt=0)
    argon2_time_cost: int = Field(default=3, ge=1, description="Argon2id passes.")
    argon2_memory_kib: int = Field(default=65536, ge=64, description="Argon2id memory, KiB.")
    hash_concurrency: int | None = Field(
        default=None, ge=1, description="Password hashes at once; default: CPUs less one."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default=["*"])
    auto_migrate: bool | None = Field(
        default=None,
        description="Migrate on start; by default only for the embedded SQLite and memory stores.",
    )
    # How long to wait for the database before answering 503: an outage must be a quick
    # answer, never a hung request.
    db_connect_timeout_seconds: float = Field(
        default=5, gt=0, description="Opening a connection (TCP and handshake)."
    )
    db_statement_timeout_seconds: float = Field(
        default=15, gt=0, description="One statement or command."
    )
    sqlite_busy_timeout_seconds: float = Field(
        default=5, gt=0, description="SQLite: waiting for the write lock, per attempt."
    )
    db_pool_timeout_seconds: float = Field(
        default=5, gt=0, description="SQL: waiting for a free connection in the pool."
    )
    # SQLAlchemy's default (5) kept fewer connections than a worker serves requests at once
    # under load, and closes a connection over the kept number when it comes back: on
    # PostgreSQL every such request opened a connection (a new server process) of its own.
    db_pool_size: int = Field(
        default=12, ge=1, description="SQL: connections each worker keeps open."
    )
    db_pool_overflow: int = Field(
        default=4,
        ge=0,
        description="SQL: connections opened for a burst beyond those, then closed.",
    )
    mongo_server_selection_timeout_seconds: float = Field(
        default=5, gt=0, description="MongoDB: finding a server to send a command to."
    )
    health_timeout_seconds: float = Field(
        default=3, gt=0, description="/healthz answers 503 if the database says nothing by then."
    )
    worker_healthcheck_timeout_seconds: int = Field(
        default=60,
        ge=1,
        description="serve --workers N: how long a worker may take to start or answer a ping.",
    )
    access_log: bool = Field(
        default=False,
        description="uvicorn's access log: one line per request, written as it is answered.",
    )
    server_timing: bool = Field(
        default=False,
        description=(
            "Every response says what its request cost: Server-Timing with the database "
            "statements (MongoDB: commands), their time, and the time in the application."
        ),
    )
    api_docs: bool | None = Field(
        default=None,
        description="Serve /docs and /openapi.json; by default only in development.",
    )
    # The largest real request is an article: 200,000 characters of body, 1,000 of
    # description, 255 of title. Sent as JSON by a client that \u-escapes everything outside
    # ASCII (Python's json.dumps does), a character costs up to 12 bytes, ~2.4 MB in all.
    max_body_bytes: int = Field(
        default=3 * 1024 * 1024, ge=1024, description="Largest request body accepted, bytes."
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: rate limits and revoked tokens shared by every worker.",
    )
    redis_key_prefix: str = Field(default="broadsheet", min_length=1)
    page_cache: bool = Field(
        default=True,
        description="With Redis: keep anonymous reads' answers there (broadsheet.pagecache).",
    )
    page_cache_seconds: int = Field(
        default=30, ge=1, description="How long a kept answer lives, at most."
    )
    redis_timeout_seconds: float = Field(default=0.5, gt=0, description="Connect and reply.")
    rate_limits: bool = Field(default=True, description="Off: nothing is rate-limited.")
    # limits' notation: "10/minute", "100 per hour", "20/5 minutes".
    rate_limit_login: str = Field(default="10/minute", description="Per client address.")
    rate_limit_login_failures: str = Field(default="5/minute", description="Per account.")
    rate_limit_registration: str = Field(default="30/10 minutes", description="Per client address.")
    rate_limit_writes_per_account: str = Field(default="60/minute")
    rate_limit_writes_per_address: str = Field(default="300/minute")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Addresses or networks (CIDR) whose X-Forwarded-For is believed.",
    )

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # a ValueError says which entry
        return value

    @field_validator(
        "rate_limit_login",
        "rate_limit_login_failures",
        "rate_limit_registration",
        "rate_limit_writes_per_account",
        "rate_limit_writes_per_address",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @property
    def is_embedded(self) -> bool:
        """SQLite or memory: nothing to install, safe to set up on the fly."""
        return self.database_url.startswith(("sqlite", "memory"))

    @property
    def is_document_store(self) -> bool:
        """MongoDB: the database answers commands, not statements."""
        return self.database_url.startswith("mongodb")

    @property
    def serves_api_docs(self) -> bool:
        return self.environment == "development" if self.api_docs is None else self.api_docs

    @property
    def migrate_on_start(self) -> bool:
        return self.is_embedded if self.auto_migrate is None else self.auto_migrate


def parse_rate(value: str) -> RateLimitItem:
    """One rate in the ``limits`` notation; a ValueError for anything else."""
    items = parse_many(value)
    if len(items) != 1 or items[0].amount < 1:
        raise ValueError(f"{value!r} is not one rate such as '10/minute'")
    return items[0]


@lru_cache
def get_settings() -> Settings:
    return Settings()
