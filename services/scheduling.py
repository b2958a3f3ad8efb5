"""Posting slots: when an approved post goes out on each account.

Each agent has posting times (local wall-clock times, default two a day) and a time
zone. An approved post goes to the next slot that account has free, so one account
never gets two posts in one slot.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_POSTING_TIMES: tuple[str, ...] = ("09:00", "17:00")
# A slot closer than this is skipped: the agent may still want to Cancel.
MIN_LEAD = timedelta(minutes=5)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value: str) -> time:
    """'9:00' / '17:30' → time; ValueError when it is not a 24-hour time."""
    m = _HHMM.match(value.strip())
    if not m:
        raise ValueError(f"{value!r} is not a time like 09:00 or 17:30")
    return time(int(m.group(1)), int(m.group(2)))


def normalize_times(values: Iterable[str]) -> list[str]:
    """Sorted, de-duplicated 'HH:MM' strings."""
    return sorted({parse_hhmm(v).strftime("%H:%M") for v in values})


@functools.lru_cache(maxsize=1024)
def _times_of_day(posting_times: tuple[str, ...]) -> tuple[time, ...]:
    # Every approval plans slots from the same few settings: parse each once.
    return tuple(parse_hhmm(t) for t in normalize_times(posting_times))


@functools.lru_cache(maxsize=4096)
def _slots_on(day: date, times: tuple[time, ...], timezone: str) -> tuple[datetime, ...]:
    # The same few days are planned for every approval of the day (two accounts each, and
    # agents share zones): converting them to UTC once keeps planning off a tap's CPU.
    tz = ZoneInfo(timezone)
    return tuple(datetime.combine(day, t, tzinfo=tz).astimezone(UTC) for t in times)


class ScheduleFull(Exception):
    """Every slot of the coming year already holds a post on that account."""


def next_free_slot(
    now: datetime,
    *,
    timezone: str,
    posting_times: Sequence[str] | None,
    occupied: Iterable[datetime] = (),
    min_lead: timedelta = MIN_LEAD,
) -> datetime:
    """The first posting slot after `now + min_lead` that is not in `occupied` (UTC).

    ScheduleFull when there is none within a year.
    """
    times = _times_of_day(tuple(posting_times or DEFAULT_POSTING_TIMES))
    taken = {o.astimezone(UTC).replace(second=0, microsecond=0) for o in occupied}
    earliest = now + min_lead
    day = now.astimezone(ZoneInfo(timezone)).date()
    for offset in range(366):
        for slot in _slots_on(day + timedelta(days=offset), times, timezone):
            if slot >= earliest and slot not in taken:
                return slot
    raise ScheduleFull(f"no free posting slot within a year of {now.isoformat()}")


def in_quiet_hours(now: datetime, *, timezone: str, start: str | None, end: str | None) -> bool:
    """True when `now` falls inside the agent's quiet hours (which may span midnight)."""
    if not start or not end:
        return False
    local = now.astimezone(ZoneInfo(timezone)).time()
    s, e = parse_hhmm(start), parse_hhmm(end)
    if s == e:
        return False
    if s < e:
        return s <= local < e
    return local >= s or local < e
