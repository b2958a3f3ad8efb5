"""Admin alerts from the error handler: at most one per kind per 15 minutes (PRODUCT.md §11).

While the database is down, every run of the 5-second delivery job fails the same way;
the admins need to hear it once, not every 5 seconds. A kind is the exception class and
where it happened (the job's name, or "update" for a handler).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from telegram.ext import ContextTypes

ALERT_WINDOW_S = 15 * 60.0
THROTTLE_KEY = "alert_throttle"


class AlertThrottle:
    """Lets one alert per key through per window; `clock` is injectable for tests."""

    def __init__(
        self, window_s: float = ALERT_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_s = window_s
        self.clock = clock
        self._last: dict[Hashable, float] = {}

    def allow(self, key: Hashable) -> bool:
        """True (and the window starts again) unless this key was let through lately."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.window_s:
            return False
        self._last[key] = now
        return True


def alert_kind(context: ContextTypes.DEFAULT_TYPE) -> str:
    """'ConnectionRefusedError in deliver': the error's class and the job (or "update")."""
    where = context.job.name if context.job is not None else "update"
    return f"{type(context.error).__name__} in {where}"


async def throttled_alert(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str) -> None:
    """Send an error alert to one admin unless they had one of this kind lately."""
    throttle = context.application.bot_data.setdefault(THROTTLE_KEY, AlertThrottle())
    if throttle.allow((alert_kind(context), chat_id)):
        await context.bot.send_message(chat_id, text)
