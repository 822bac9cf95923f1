"""Every list is read through the index designed for it, pages before it joins, and never
counts its matches with ``$facet`` (``python -m tests.mongo.plans`` prints these plans).

The index is taken from the server's own ``explain`` of the command the app sent. On
SecantusDB that is the plan of the pipeline's leading ``$match`` (see ``plans.py`` for what
it leaves out): it proves the index a list starts from, not that the walk stops early.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import databases
from tests.conftest import BACKENDS
from tests.mongo import plans

MONGO_BACKENDS = [b for b in BACKENDS if b == "mongodb"]


@pytest.fixture(params=MONGO_BACKENDS)
def mongo_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[str(request.param)]  # created here, outside any running event loop


@pytest.fixture
async def collected(mongo_url: str) -> list[plans.ListPlan]:
    await databases.empty_at(mongo_url)
    async with plans.seeded(mongo_url) as (http, commands, db, reader):
        return await plans.collect(http, commands, db, reader)


def _stages(command: dict[str, Any]) -> list[str]:
    return [next(iter(stage)) for stage in command.get("pipeline", [])]


async def test_each_list_starts_from_its_index(collected: list[plans.ListPlan]) -> None:
    unhinted = []
    for plan in collected:
        if plan.expected_index is None:
            unhinted.append(plan.what)
            continue
        page_plan = plan.explained[-1]  # after the named user or the followees, if any
        assert plan.expected_index in plans.indexes_used(page_plan), (plan.what, page_plan)
    assert unhinted == ["tag and author"]  # either index serves it; the planner picks


async def test_each_list_pages_before_it_joins_and_counts_no_matches(
    collected: list[plans.ListPlan],
) -> None:
    for plan in collected:
        for command in plan.commands:
            stages = _stages(command)
            assert "$facet" not in stages, plan.what
            if "$limit" not in stages:
                continue  # the named users, the followees, the tags: no page
            # The one list paged after its join: favorites that must also match the author.
            joined_first = plan.what == "author and favorited"
            assert (stages.index("$limit") < stages.index("$lookup")) is not joined_first, (
                plan.what,
                stages,
            )
            assert stages[stages.index("$limit") - 1] == "$skip", (plan.what, stages)
