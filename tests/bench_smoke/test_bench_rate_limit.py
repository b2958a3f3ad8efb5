"""The bot's rate limiter: the overall budget covers new messages, not edits in private chats,
and no one-second window holds more sends than the budget."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.rate_limit import SENDS_PER_SECOND, SendRateLimiter, counts_as_message


async def _released(limiter: SendRateLimiter, endpoint: str, chat_id: Any, n: int) -> list[float]:
    """When each of `n` requests made at once went through the limiter."""
    released: list[float] = []

    async def call(*args: Any, **kwargs: Any) -> bool:
        released.append(time.monotonic())
        return True

    await asyncio.gather(
        *(
            limiter.process_request(call, (), {}, endpoint, {"chat_id": chat_id}, None)
            for _ in range(n)
        )
    )
    return sorted(released)


async def _timed(limiter: SendRateLimiter, endpoint: str, chat_id: Any, n: int) -> float:
    started = time.monotonic()
    released = await _released(limiter, endpoint, chat_id, n)
    return released[-1] - started


def _busiest_second(times: list[float]) -> int:
    best, left = 0, 0
    for right, t in enumerate(times):
        while t - times[left] >= 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


def test_which_methods_count_as_messages() -> None:
    for method in ("sendMessage", "sendPhoto", "sendMediaGroup", "copyMessage", "forwardMessage"):
        assert counts_as_message(method)
    for method in ("editMessageText", "editMessageReplyMarkup", "deleteMessage", "getMe"):
        assert not counts_as_message(method)


async def test_no_second_holds_more_sends_than_the_budget_not_even_the_first() -> None:
    # AIORateLimiter's bucket starts full: 30 at once, then 30 more within the second.
    released = await _released(SendRateLimiter(), "sendMessage", 42, 2 * int(SENDS_PER_SECOND))
    assert _busiest_second(released) <= SENDS_PER_SECOND + 2 <= 30
    # ...and it still spends the budget: 56 sends in about two seconds, not more.
    assert released[-1] - released[0] < 2 * 1.2


async def test_sends_wait_for_the_overall_budget_edits_do_not() -> None:
    # 30 sends at 20/s, paced (two at once at most): about 1.4 s.
    assert await _timed(SendRateLimiter(sends_per_second=20), "sendMessage", 42, 30) > 1.3
    # A budget of one message a minute: edits that waited for it would take 99 minutes,
    # so the bound below holds on any machine, however loaded, only if they do not wait.
    miserly = SendRateLimiter(sends_per_second=1 / 60)
    assert await _timed(miserly, "editMessageText", 42, 100) < 5.0


async def test_edits_in_groups_keep_the_group_limit() -> None:
    limiter = SendRateLimiter(sends_per_second=1000, group_max_rate=4, group_time_period=0.5)
    # 4 at once, 4 more at 8/s: about half a second.
    assert await _timed(limiter, "editMessageText", -100123, 8) > 0.4
