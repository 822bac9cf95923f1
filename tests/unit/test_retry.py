"""Use cases that lose a race to a concurrent one run again, a bounded number of times."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from broadsheet.domain.errors import NotFound, TransientConflict
from broadsheet.services import retry
from broadsheet.web.errors import status_and_body


def flaky(failures: int, calls: list[int]) -> Callable[[], Awaitable[str]]:
    @retry.on_conflict
    async def use_case() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise TransientConflict
        return "done"

    return use_case


async def test_a_conflict_runs_the_use_case_again() -> None:
    calls: list[int] = []

    assert await flaky(2, calls)() == "done"
    assert len(calls) == 3


async def test_retries_are_bounded() -> None:
    calls: list[int] = []

    with pytest.raises(TransientConflict):
        await flaky(100, calls)()
    assert len(calls) == retry.ATTEMPTS


async def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    @retry.on_conflict
    async def missing() -> None:
        calls.append(1)
        raise NotFound("article")

    with pytest.raises(NotFound):
        await missing()
    assert calls == [1]


def test_a_conflict_that_outlasts_the_retries_is_a_503() -> None:
    assert status_and_body(TransientConflict()) == (
        503,
        {"errors": {"request": ["conflicted with concurrent changes; try again"]}},
    )
