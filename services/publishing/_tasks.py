"""Run a few coroutines side by side; the first failure cancels the rest and is re-raised as is."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def run_all(awaitables: Sequence[Awaitable[T]], limit: int) -> list[T]:
    """Await all with at most `limit` running; results keep the input order.

    Unlike `asyncio.TaskGroup`, a failure surfaces as the original exception, not a group,
    so callers can keep catching `PublishError`.
    """
    gate = asyncio.Semaphore(max(1, limit))

    async def gated(aw: Awaitable[T]) -> T:
        async with gate:
            return await aw

    tasks = [asyncio.ensure_future(gated(aw)) for aw in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
