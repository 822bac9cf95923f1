"""Running a use case again when the store reports a transient conflict.

A unit of work that loses a race (MongoDB's ``WriteConflict``, an InnoDB deadlock, a
PostgreSQL serialization failure) is rolled back whole, so the use case can simply run
again: a few times, after a short random pause, before the error reaches the caller.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from broadsheet.domain.errors import TransientConflict

ATTEMPTS = 5
P = ParamSpec("P")
R = TypeVar("R")


def on_conflict(use_case: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(use_case)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await use_case(*args, **kwargs)
            except TransientConflict:
                if attempt == ATTEMPTS:
                    raise
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    return run
