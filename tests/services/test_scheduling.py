"""Posting slots and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.scheduling import ScheduleFull, in_quiet_hours, next_free_slot, normalize_times

NY = "America/New_York"


def test_next_slot_is_today_when_still_ahead() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 07:00 in New York
    slot = next_free_slot(now, timezone=NY, posting_times=["09:00", "17:00"])
    assert slot == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def test_occupied_slot_is_skipped_and_wraps_to_next_day() -> None:
    now = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 15:00 NY
    taken = [datetime(2026, 12, 1, 22, 0, tzinfo=UTC)]  # 17:00 NY
    slot = next_free_slot(now, timezone=NY, posting_times=["17:00", "09:00"], occupied=taken)
    assert slot == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def test_slot_within_lead_time_is_skipped() -> None:
    now = datetime(2026, 12, 1, 13, 58, tzinfo=UTC)  # 08:58 NY, 09:00 is too close
    assert next_free_slot(now, timezone=NY, posting_times=["09:00"]) == datetime(
        2026, 12, 2, 14, 0, tzinfo=UTC
    )


def test_default_times_and_dst_change() -> None:
    now = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # DST starts 8 March in the US
    slot = next_free_slot(now, timezone=NY, posting_times=None)
    assert slot == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT


def test_normalize_and_reject_bad_times() -> None:
    assert normalize_times(["9:00", "17:30", "09:00"]) == ["09:00", "17:30"]
    with pytest.raises(ValueError):
        normalize_times(["25:00"])


@pytest.mark.parametrize(
    ("utc_hour", "expected"), [(3, True), (11, True), (13, False), (2, True), (20, False)]
)
def test_quiet_hours_span_midnight(utc_hour: int, expected: bool) -> None:
    now = datetime(2026, 12, 1, utc_hour, 0, tzinfo=UTC)  # NY = UTC-5
    assert in_quiet_hours(now, timezone=NY, start="21:00", end="07:00") is expected


def test_no_quiet_hours_when_unset() -> None:
    assert not in_quiet_hours(datetime.now(UTC), timezone=NY, start=None, end="07:00")


def test_a_year_of_taken_slots_is_schedule_full() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    taken: list[datetime] = []
    with pytest.raises(ScheduleFull):
        for _ in range(400):
            taken.append(next_free_slot(now, timezone=NY, posting_times=["09:00"], occupied=taken))
    assert len(taken) == 366 and len(set(taken)) == 366
