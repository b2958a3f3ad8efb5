"""The bot's rate limiter: the overall budget covers new messages, not edits in private chats."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.rate_limit import SendRateLimiter, counts_as_message


async def _timed(limiter: SendRateLimiter, endpoint: str, chat_id: Any, n: int) -> float:
    async def call(*args: Any, **kwargs: Any) -> bool:
        return True

    started = time.monotonic()
    await asyncio.gather(
        *(
            limiter.process_request(call, (), {}, endpoint, {"chat_id": chat_id}, None)
            for _ in range(n)
        )
    )
    return time.monotonic() - started


def test_which_methods_count_as_messages() -> None:
    for method in ("sendMessage", "sendPhoto", "sendMediaGroup", "copyMessage", "forwardMessage"):
        assert counts_as_message(method)
    for method in ("editMessageText", "editMessageReplyMarkup", "deleteMessage", "getMe"):
        assert not counts_as_message(method)


async def test_sends_wait_for_the_overall_budget_edits_do_not() -> None:
    limiter = SendRateLimiter(overall_max_rate=20, overall_time_period=1)
    # 20 fit in the bucket at once; 10 more take ~0.5 s at 20/s.
    assert await _timed(limiter, "sendMessage", 42, 30) > 0.4
    # A budget of one message a minute: edits that waited for it would take 99 minutes,
    # so the bound below holds on any machine, however loaded, only if they do not wait.
    miserly = SendRateLimiter(overall_max_rate=1, overall_time_period=60)
    assert await _timed(miserly, "editMessageText", 42, 100) < 5.0


async def test_edits_in_groups_keep_the_group_limit() -> None:
    limiter = SendRateLimiter(
        overall_max_rate=1000, overall_time_period=1, group_max_rate=4, group_time_period=0.5
    )
    # 4 at once, 4 more at 8/s: about half a second.
    assert await _timed(limiter, "editMessageText", -100123, 8) > 0.4
