"""How often and how long a post is tried: attempts, back-off, and the time limits.

The publish round and the delivery of notifications both wait `retry_delay` between tries.
"""

from __future__ import annotations

from datetime import timedelta

MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)
# A hint from the Graph (e.g. a throttling window) is honoured up to this long.
RETRY_HINT_MAX = timedelta(hours=6)
# One post may take this long at most (Graph retries, Instagram processing); after it the
# outcome is unknown. STALE_AFTER must stay well above it: only then is a `sent` row that
# old certainly abandoned, by a crash or a lost database connection.
POST_TIMEOUT_S = 240.0
STALE_AFTER = timedelta(minutes=10)


def retry_delay(attempts: int, hint_s: float | None = None) -> timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4, 8… minutes (≤ 1 h), or the Graph's hint."""
    exponential_s = min(
        RETRY_BASE.total_seconds() * 2.0 ** max(0, attempts - 1), RETRY_MAX.total_seconds()
    )
    if hint_s:
        return timedelta(seconds=min(max(exponential_s, hint_s), RETRY_HINT_MAX.total_seconds()))
    return timedelta(seconds=exponential_s)
