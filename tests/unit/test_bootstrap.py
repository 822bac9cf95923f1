"""Settings and the composition root: secrets, URLs, CORS origins from the environment."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from broadsheet.bootstrap import ConfigurationError, check_workers, configured_secret, running
from broadsheet.security import JwtCodec
from broadsheet.settings import Settings


def test_production_refuses_to_start_without_a_secret() -> None:
    settings = Settings(environment="production", database_url="sqlite:///x.db")

    with pytest.raises(ConfigurationError, match="BROADSHEET_SECRET_KEY"):
        configured_secret(settings)


def test_a_given_secret_is_used_as_is() -> None:
    secret = "from-the-environment-" + "x" * 20
    settings = Settings(environment="production", secret_key=secret)

    assert configured_secret(settings) == secret


def test_a_short_secret_is_refused() -> None:
    settings = Settings(environment="production", secret_key="too-short")

    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        configured_secret(settings)


async def _token_for_user_1(settings: Settings) -> str:
    async with running(settings) as broadsheet:
        return broadsheet.tokens.issue(1)


async def _reads(settings: Settings, token: str) -> int:
    async with running(settings) as broadsheet:
        return broadsheet.tokens.read(token).user_id


def test_a_generated_key_is_kept_in_the_database_and_shared(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'blog.db'}")

    token = asyncio.run(_token_for_user_1(settings))

    # Another process (here: another start) verifies it with the key the database holds.
    assert asyncio.run(_reads(settings, token)) == 1
    assert not (tmp_path / "blog.db.secret").exists()  # no file beside the database any more


def test_an_existing_sqlite_secret_file_is_adopted_so_old_tokens_stay_valid(
    tmp_path: Path,
) -> None:
    legacy_key = "a-key-from-before-it-moved-into-the-database-0123456789"
    (tmp_path / "blog.db.secret").write_text(legacy_key + "\n")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'blog.db'}")
    old_token = JwtCodec(legacy_key, ttl=timedelta(days=1)).issue(7)

    assert asyncio.run(_reads(settings, old_token)) == 7
    (tmp_path / "blog.db.secret").unlink()  # once stored, the database alone holds it
    assert asyncio.run(_reads(settings, old_token)) == 7


def test_memory_store_refuses_more_than_one_worker() -> None:
    settings = Settings(database_url="memory://")

    check_workers(settings, 1)
    with pytest.raises(ConfigurationError, match="--workers 1"):
        check_workers(settings, 2)


def test_settings_read_database_url_and_prefixed_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/broadsheet")
    monkeypatch.setenv("BROADSHEET_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("BROADSHEET_ENV", "production")

    settings = Settings()

    assert settings.database_url == "postgresql://db.example/broadsheet"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.environment == "production"
    assert settings.migrate_on_start is False


def test_the_embedded_default_migrates_on_start() -> None:
    assert Settings(database_url="sqlite:///broadsheet.db").migrate_on_start is True
