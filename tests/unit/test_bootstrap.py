"""Settings and the composition root: secrets, URLs, CORS origins from the environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from broadsheet.bootstrap import ConfigurationError, signing_secret
from broadsheet.settings import Settings


def test_production_refuses_to_start_without_a_secret() -> None:
    settings = Settings(environment="production", database_url="sqlite:///x.db")

    with pytest.raises(ConfigurationError, match="BROADSHEET_SECRET_KEY"):
        signing_secret(settings)


def test_a_given_secret_is_used_as_is() -> None:
    secret = "from-the-environment-" + "x" * 20
    settings = Settings(environment="production", secret_key=secret)

    assert signing_secret(settings) == secret


def test_a_short_secret_is_refused() -> None:
    settings = Settings(environment="production", secret_key="too-short")

    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        signing_secret(settings)


def test_embedded_default_keeps_one_generated_secret_beside_the_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'blog.db'}")

    first = signing_secret(settings)
    second = signing_secret(settings)

    stored = tmp_path / "blog.db.secret"
    assert first == second == stored.read_text().strip()
    assert len(first) >= 40
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


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
