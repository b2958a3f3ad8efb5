"""Formatting shared by every renderer (Telegram messages and the web dashboard)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)


def money(amount: Decimal | int | None, currency: str = "$") -> str:
    """``Decimal("349990")`` -> ``"$349,990"``; cents only when there are any."""
    if amount is None:
        return "Price on request"
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    value = abs(value)
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{sign}{currency}{text}"


def fmt_dt(dt: datetime, tz_name: str) -> str:
    """``"Tue 2 Dec, 9:00 AM"`` in the agent's time zone; a naive ``dt`` is taken as UTC."""
    try:
        zone: ZoneInfo | None = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time zone %r, showing UTC", tz_name)
        zone = None
    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    local = aware.astimezone(zone) if zone is not None else aware.astimezone(UTC)
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    suffix = "" if zone is not None else " UTC"
    return f"{local:%a} {local.day} {local:%b}, {hour}:{local:%M} {meridiem}{suffix}"
