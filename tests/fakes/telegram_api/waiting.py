"""Waiting for the fake's state to change: a signal that wakes waiters to re-check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Signal:
    """Wakes waiters so they re-check their condition after a change."""

    __slots__ = ("_events",)

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def fire(self) -> None:
        for event in self._events:
            event.set()

    async def wait_until(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            event = asyncio.Event()
            self._events.add(event)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._events.discard(event)
