"""Draft reminders with a frozen clock: once, after the agent's hours, never in quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from db.models import ContentPiece
from services.context import Database
from services.notifying.notifier import DeliveryFailed, DeliveryRefused
from services.notifying.reminders import send_reminders, waiting_for
from tests.factories import make_agent, make_piece
from tests.services.test_delivery import RecordingNotifier

NY = "America/New_York"
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York


async def _shown_draft(database: Database, message_id: int, **agent_values: Any) -> ContentPiece:
    """A draft on the agent's phone since T0 (message `message_id`), not answered."""
    async with database.unit_of_work() as s:
        agent = await make_agent(s, telegram_chat_id=message_id * 10, **agent_values)
        piece = await make_piece(s, agent)
        await s.execute(
            update(ContentPiece)
            .where(ContentPiece.id == piece.id)
            .values(
                telegram_chat_id=agent.telegram_chat_id,
                telegram_message_id=message_id,
                delivered_version=1,
                created_at=T0,
                updated_at=T0,
            )
        )
    return piece


async def _remind(database: Database, notifier: RecordingNotifier, at: datetime) -> int:
    return await send_reminders(database, notifier, default_timezone=NY, default_hours=24.0, now=at)


async def test_one_reminder_after_the_default_hours_as_a_reply(database: Database) -> None:
    await _shown_draft(database, 501)
    notifier = RecordingNotifier()
    assert await _remind(database, notifier, T0 + timedelta(hours=23, minutes=59)) == 0
    assert await _remind(database, notifier, T0 + timedelta(hours=24, minutes=1)) == 1
    [(chat, reply_to, text)] = notifier.reminders
    assert (chat, reply_to) == (5010, 501)
    assert "waiting for 24 hours" in text and "Approve" in text
    assert await _remind(database, notifier, T0 + timedelta(hours=30)) == 0
    assert await _remind(database, notifier, T0 + timedelta(days=5)) == 0
    assert len(notifier.reminders) == 1


async def test_quiet_hours_hold_the_reminder_until_morning(database: Database) -> None:
    await _shown_draft(database, 502, quiet_hours_start="21:00", quiet_hours_end="07:00")
    notifier = RecordingNotifier()
    night = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)  # 23:00 in New York, 37 hours on
    assert await _remind(database, notifier, night) == 0
    morning = night + timedelta(hours=9)  # 08:00 in NY
    assert await _remind(database, notifier, morning) == 1


async def test_each_agent_has_their_own_hours_or_none(database: Database) -> None:
    fast = await _shown_draft(database, 503, draft_reminder_hours=1.5)
    await _shown_draft(database, 504, draft_reminder_hours=0.0)
    answered = await _shown_draft(database, 505)
    async with database.unit_of_work() as s:
        await s.execute(
            update(ContentPiece)
            .where(ContentPiece.id == answered.id)
            .values(status="approved_for_posting", updated_at=T0)
        )
    notifier = RecordingNotifier()
    assert await _remind(database, notifier, T0 + timedelta(hours=1)) == 0
    assert await _remind(database, notifier, T0 + timedelta(hours=1, minutes=31)) == 1
    assert [r[1] for r in notifier.reminders] == [503]
    assert await _remind(database, notifier, T0 + timedelta(days=3)) == 0
    async with database.unit_of_work() as s:
        row = await s.get(ContentPiece, fast.id)
    # Stamped, and its "last change" left as the agent last saw it.
    assert row is not None and row.reminded_at is not None and row.updated_at == T0


class FailingOnce(RecordingNotifier):
    """Sends reminders, but the first one fails with `error`."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self._error: Exception | None = error

    async def send_reminder(self, chat_id: int, reply_to_message_id: int, text: str) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        await super().send_reminder(chat_id, reply_to_message_id, text)


async def test_a_reminder_that_could_not_go_out_is_tried_again_by_the_next_pass(
    database: Database,
) -> None:
    await _shown_draft(database, 506)
    notifier = FailingOnce(DeliveryFailed("Telegram answered 502"))
    due = T0 + timedelta(hours=25)
    assert await _remind(database, notifier, due) == 0
    assert await _remind(database, notifier, due + timedelta(minutes=5)) == 1
    assert [r[1] for r in notifier.reminders] == [506]
    assert await _remind(database, notifier, due + timedelta(hours=1)) == 0  # still one


async def test_a_reminder_telegram_refuses_is_not_tried_again(database: Database) -> None:
    await _shown_draft(database, 507)
    notifier = FailingOnce(DeliveryRefused("message to reply to not found"))
    due = T0 + timedelta(hours=25)
    assert await _remind(database, notifier, due) == 0
    assert await _remind(database, notifier, due + timedelta(minutes=5)) == 0
    assert notifier.reminders == []


def test_waiting_for_reads_naturally() -> None:
    assert waiting_for(timedelta(minutes=1)) == "1 minute"
    assert waiting_for(timedelta(minutes=45)) == "45 minutes"
    assert waiting_for(timedelta(hours=26, minutes=10)) == "26 hours"
    assert waiting_for(timedelta(days=3, hours=1)) == "3 days"
