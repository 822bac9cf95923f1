"""An unready schema: the app refuses to start on it, and ``/healthz`` says why.

Before, a server on an unmigrated database started and answered 500 to everything.
(The in-memory store has no schema to fall behind, so it is not among the backends here.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from broadsheet.bootstrap import SchemaNotReady
from broadsheet.settings import Settings
from broadsheet.storage import open_storage
from broadsheet.storage.mongo import MongoStorage
from broadsheet.storage.sql import SqlStorage, migrations
from broadsheet.web.app import create_app
from tests.conftest import BACKENDS

HEALTH = "http://test/healthz"


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def _one_step_behind(url: str) -> AsyncIterator[None]:
    """The newest migration undone for the duration (the database is shared by the run)."""
    storage = open_storage(url)
    try:
        if isinstance(storage, SqlStorage):
            await storage.downgrade_to(migrations.INITIAL_REVISION)
        else:
            assert isinstance(storage, MongoStorage)
            await storage.database.migrations.delete_one({"_id": "0004_instance_secrets"})
        yield
    finally:
        await storage.migrate()
        await storage.close()


async def test_health_says_why_the_database_cannot_serve(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert (await client.get(HEALTH)).status_code == 200

    async with _one_step_behind(settings.database_url):
        response = await client.get(HEALTH)

    assert response.status_code == 503
    assert response.headers["retry-after"]
    (reason,) = response.json()["errors"]["database"]
    assert reason.startswith("schema is behind")
    assert reason.endswith("run `broadsheet db upgrade`")
    assert (await client.get(HEALTH)).status_code == 200  # upgraded again: healthy


async def test_the_app_refuses_to_start_on_a_schema_that_is_behind(settings: Settings) -> None:
    application: FastAPI = create_app(settings)

    async with _one_step_behind(settings.database_url):
        with pytest.raises(SchemaNotReady, match="run `broadsheet db upgrade`"):
            async with application.router.lifespan_context(application):
                pass


async def test_auto_migrate_brings_a_schema_that_is_behind_up_to_date(settings: Settings) -> None:
    application: FastAPI = create_app(settings.model_copy(update={"auto_migrate": True}))

    async with (
        _one_step_behind(settings.database_url),
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=application)) as http,
    ):
        assert (await http.get(HEALTH)).status_code == 200
