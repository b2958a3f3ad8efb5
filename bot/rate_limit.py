"""The bot's rate limiter: Telegram's ~30 messages/s budget spent on new messages only.

PTB's `AIORateLimiter` puts every request that names a chat under its overall limit,
edits included. Telegram's global limit is about sending messages to many chats (Bot FAQ,
specs/EXTERNAL_APIS.md §1); answering a tap is an answerCallbackQuery plus an edit in the
agent's own chat, which only the per-chat limit (~1/s) concerns. Counting those edits
against the 30/s budget capped the whole bot at ~30 taps per second (bench/approval.py),
so edits, deletions and the like in private chats skip the overall limiter here. They
still wait while a 429 is being honoured and are retried like everything else.

The budget is paced, one send every 1/`sends_per_second` s from a bucket of two,
instead of AIORateLimiter's bucket of 30 that starts full: that one let 30 sends out at
once and 30 more within the same second (60 in the first second of a fan-out,
bench/fanout.py), and Telegram counts per second. Here any one-second window holds at
most `sends_per_second` + 2 releases: 29 at 27.5/s, which leaves one send of margin for
requests that reach Telegram less evenly than they left (at 28/s the fake Telegram saw
exactly 30 in its busiest second). The second place in the bucket takes up a late
wake-up (the event loop is never exactly on time), so the pace holds at 27.5/s on a
busy machine, 92 % of Telegram's 30; with a bucket of one every late wake-up was lost
(25.9/s on this machine under load).

A 429 is sat out here (holding back every request meanwhile) only when its `retry_after`
is short; a longer one goes back to the caller at once. Queued work (drafts,
notifications) is in the database and is tried again when Telegram allows, instead of
freezing the whole bot, taps included, for minutes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter
from telegram.warnings import PTBDeprecationWarning

JSONDict = dict[str, Any]
_SEND_PREFIXES = ("send", "copyMessage", "forwardMessage")
SENDS_PER_SECOND = 27.5
_BUCKET = 2  # sends
MAX_WAIT_IN_PLACE_S = 30.0


def retry_after_s(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB 22 warns about the attribute's type)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class _LongWait(Exception):
    """Carries a RetryAfter past AIORateLimiter, which would otherwise sleep it out."""

    def __init__(self, error: RetryAfter) -> None:
        super().__init__(str(error))
        self.error = error


def counts_as_message(endpoint: str) -> bool:
    """Whether a Bot API method puts a new message in a chat (and so spends the 30/s)."""
    return endpoint.startswith(_SEND_PREFIXES)


def _private_chat(chat_id: object) -> bool:
    if isinstance(chat_id, int):
        return chat_id > 0
    # PTB passes ids as given; a str is either digits or a @channel username.
    return isinstance(chat_id, str) and chat_id.isdigit()


class SendRateLimiter(AIORateLimiter):
    """`AIORateLimiter` whose overall limit applies to sends, paced; groups keep every limit.

    `kwargs` are AIORateLimiter's group and retry settings.
    """

    def __init__(self, sends_per_second: float = SENDS_PER_SECOND, **kwargs: Any) -> None:
        # A bucket of two sends refilled at the rate: no burst beyond two, ever.
        super().__init__(
            overall_max_rate=_BUCKET, overall_time_period=_BUCKET / sends_per_second, **kwargs
        )

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Limit like AIORateLimiter, except edits and the like in private chats."""
        if not counts_as_message(endpoint) and _private_chat(data.get("chat_id")):
            # `data` only tells the limiter which buckets apply; the request itself
            # travels in `args`, untouched.
            data = {k: v for k, v in data.items() if k != "chat_id"}

        async def call(*a: Any, **kw: Any) -> bool | JSONDict | list[JSONDict]:
            try:
                return await callback(*a, **kw)
            except RetryAfter as exc:
                if retry_after_s(exc) > MAX_WAIT_IN_PLACE_S:
                    raise _LongWait(exc) from None
                raise

        try:
            return await super().process_request(
                call, args, kwargs, endpoint, data, rate_limit_args
            )
        except _LongWait as wrapped:
            raise wrapped.error from None
