"""Fixtures for the SQL-only suites: the selected SQL backends, overriding the API's."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS

SQL_BACKENDS = [b for b in BACKENDS if b in {"sqlite", "postgresql", "mariadb"}]


@pytest.fixture(params=SQL_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sql_url(backend: str, database_urls: dict[str, str]) -> str:
    return database_urls[backend]  # created here, outside any test's event loop
