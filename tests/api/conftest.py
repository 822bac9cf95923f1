"""Accounts most API tests start from. Each test has a fresh, empty database."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import Account, register


@pytest.fixture
async def jake(client: httpx.AsyncClient) -> Account:
    return await register(client, "jake")


@pytest.fixture
async def jane(client: httpx.AsyncClient) -> Account:
    return await register(client, "jane")
