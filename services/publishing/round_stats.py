"""What one publish round did (`PublishRound`), and how many posts a round runs side by side."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 32


@dataclass
class PublishRound:
    """What one round of the publish job did."""

    paused: bool = False
    claimed: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    deactivated: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    orphans: int = 0
    reconciled_published: int = 0
    reconciled_retried: int = 0
    reconciled_waiting: int = 0


async def run_side_by_side(
    work: Iterable[Awaitable[None]], stats: PublishRound, failure: str
) -> None:
    """Run `work` concurrently; an exception in one is counted and logged (`failure`), not
    allowed to stop the others; cancellation still propagates."""
    results = await asyncio.gather(*work, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            stats.errors += 1
            log.error(failure, exc_info=result)
        elif isinstance(result, BaseException):
            raise result
