"""bot.draft_render: the lines around a draft are valid Telegram HTML."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.draft_render import status_line
from db.status import ContentStatus
from services.approval import ScheduledPost
from tests.fakes.telegram_api import parse_html


def test_status_line_escapes_every_scheduled_field() -> None:
    at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    scheduled = [
        ScheduledPost("facebook", "Oak & <Pine>", at),
        ScheduledPost("<threads>", "x", at),  # a platform without a display name
    ]
    line = status_line(ContentStatus.APPROVED_FOR_POSTING, scheduled, "America/New_York")
    shown, _ = parse_html(line)
    assert "Facebook (Oak & <Pine>) Tue 1 Dec, 9:00 AM" in shown
    assert "<threads> (x)" in shown
