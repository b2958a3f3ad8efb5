"""Telegram-like flood control: token buckets globally and per chat, and the 429 with
``retry_after`` the fake answers when one is empty."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from tests.fakes.telegram_api.api_errors import ApiError
from tests.fakes.telegram_api.api_limits import EDIT_METHODS, SEND_METHODS
from tests.fakes.telegram_api.records import ThrottledRecord


@dataclass
class FloodLimits:
    """Telegram-like flood control. Token buckets: ``rate`` per second, ``burst`` capacity.

    Defaults follow the Bot FAQ: about 30 messages per second across chats (bulk sends,
    counted per request as PTB's ``AIORateLimiter`` counts them) and about one message per
    second per chat with a short burst (sends and edits). A 429 blocks the scope that hit
    the limit for the whole ``retry_after``, as Telegram does.

    ``grace`` is how early (in seconds) a request may arrive and still pass: a client that
    paces itself exactly at the limit sees requests land a few milliseconds apart from
    when it released them, and Telegram's limits are soft ("about 30").
    """

    enabled: bool = True
    grace: float = 0.25
    global_rate: float = 30.0
    global_burst: float = 30.0
    per_chat_rate: float = 1.0
    per_chat_burst: float = 6.0
    global_methods: frozenset[str] = SEND_METHODS
    per_chat_methods: frozenset[str] = SEND_METHODS | EDIT_METHODS


class Bucket:
    __slots__ = ("blocked_until", "stamp", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.tokens = burst
        self.stamp = now
        self.blocked_until = 0.0

    def wait_time(self, now: float, rate: float, burst: float, grace: float) -> float:
        """Seconds until one token is available (0 if within ``grace``); refills first."""
        if now < self.blocked_until:
            return self.blocked_until - now
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        wait = (1.0 - self.tokens) / rate
        return 0.0 if wait <= grace else wait


class FloodControl:
    """The flood limiter: answers 429 with ``retry_after`` when a bucket is empty.

    Mixed into ``FakeTelegram``, whose state it uses.
    """

    def _throttle(self, method: str, chat_id: int) -> None:
        """Raise 429 like Telegram if this send would break the flood limits."""
        limits = self.flood
        if not limits.enabled:
            return
        now = time.monotonic()
        use_global = method in limits.global_methods
        use_chat = method in limits.per_chat_methods
        waits: list[tuple[float, str, Bucket]] = []
        if use_global:
            if self._global_bucket is None:
                self._global_bucket = Bucket(limits.global_burst, now)
            bucket = self._global_bucket
            waits.append(
                (
                    bucket.wait_time(now, limits.global_rate, limits.global_burst, limits.grace),
                    "global",
                    bucket,
                )
            )
        if use_chat:
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = self._chat_buckets[chat_id] = Bucket(limits.per_chat_burst, now)
            bucket = chat_bucket
            waits.append(
                (
                    bucket.wait_time(
                        now, limits.per_chat_rate, limits.per_chat_burst, limits.grace
                    ),
                    "chat",
                    bucket,
                )
            )
        worst = max(waits, default=None, key=lambda w: w[0])
        if worst is not None and worst[0] > 0:
            wait, scope, bucket = worst
            retry_after = max(1, math.ceil(wait))
            bucket.blocked_until = max(bucket.blocked_until, now + retry_after)
            self.throttled_log.append(ThrottledRecord(now, method, chat_id, retry_after, scope))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        for _, _, bucket in waits:
            bucket.tokens -= 1.0
