"""Delivery of drafts and notifications: quiet hours, preferences, order, blocked bots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from db.models import ContentPiece, Notification
from db.repositories import agents as agents_repo
from services.context import Database
from services.notifying import delivery
from services.notifying.notification_rows import notify
from services.notifying.notifier import DraftView, NotificationView, PartSent, RecipientUnreachable
from tests.factories import make_agent, make_piece

NY = "America/New_York"
DAY = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 12:00 in New York
NIGHT = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 23:00 in New York


class RecordingNotifier:
    """Stands in for the Telegram notifier: records what would be sent."""

    def __init__(self, blocked_chats: set[int] | None = None) -> None:
        self.drafts: list[DraftView] = []
        self.superseded: list[tuple[int, int, int]] = []
        self.notes: list[NotificationView] = []
        self.blocked = blocked_chats or set()
        self.alerts: list[str] = []
        self.reminders: list[tuple[int, int, str]] = []
        self.photos: list[tuple[int, bytes, str]] = []
        self._next = 100

    async def send_draft(self, draft: DraftView, on_part: PartSent | None = None) -> int:
        if draft.chat_id in self.blocked:
            raise RecipientUnreachable
        self.drafts.append(draft)
        self._next += 1
        return self._next

    async def mark_superseded(self, chat_id: int, message_id: int, new_version: int) -> None:
        self.superseded.append((chat_id, message_id, new_version))

    async def send_notification(self, note: NotificationView) -> None:
        if note.chat_id in self.blocked:
            raise RecipientUnreachable
        self.notes.append(note)

    async def alert_admins(self, text: str) -> None:
        self.alerts.append(text)

    async def send_reminder(self, chat_id: int, reply_to_message_id: int, text: str) -> None:
        self.reminders.append((chat_id, reply_to_message_id, text))

    async def send_photo(self, chat_id: int, png: bytes, caption: str) -> None:
        if chat_id in self.blocked:
            raise RecipientUnreachable
        self.photos.append((chat_id, png, caption))


async def test_drafts_wait_for_quiet_hours_then_arrive_in_order(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s, quiet_hours_start="21:00", quiet_hours_end="07:00")
        first = await make_piece(s, agent)
        second = await make_piece(s, agent)
    notifier = RecordingNotifier()
    stats = await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=NIGHT)
    assert stats.deferred == 2 and notifier.drafts == []
    stats = await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
    assert stats.sent == 2
    assert [d.piece_id for d in notifier.drafts] == [first.id, second.id]
    # delivered once: a second round sends nothing
    again = await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
    assert again.sent == 0 and len(notifier.drafts) == 2
    async with database.unit_of_work() as s:
        stored = await s.get(ContentPiece, first.id)
    assert stored is not None and stored.delivered_version == 1
    assert stored.telegram_message_id == 101


async def test_new_version_supersedes_the_old_message(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        piece = await make_piece(s, agent)
    notifier = RecordingNotifier()
    await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
    async with database.unit_of_work() as s:
        row = await s.get(ContentPiece, piece.id)
        assert row is not None
        row.version = 2
        row.feedback = "shorter"
    await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
    assert [d.version for d in notifier.drafts] == [1, 2]
    assert notifier.drafts[1].feedback == "shorter"
    assert notifier.superseded == [(agent.telegram_chat_id, 101, 2)]


async def test_turned_off_type_writes_the_row_but_sends_nothing(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        await agents_repo.update_agent(
            s, agent.id, notification_preferences={"post_success": False}
        )
        await s.refresh(agent)
        await notify(s, agent, "post_success", "Posted on Facebook")
        await notify(s, agent, "post_failed", "Instagram refused the photo")
    notifier = RecordingNotifier()
    stats = await delivery.deliver_notifications(database, notifier, default_timezone=NY, now=DAY)
    assert stats.sent == 1
    assert [n.notification_type for n in notifier.notes] == ["post_failed"]
    async with database.unit_of_work() as s:
        rows = (await s.execute(select(Notification))).scalars().all()
    assert {r.notification_type: r.delivery_status for r in rows} == {
        "post_success": "skipped",
        "post_failed": "sent",
    }


async def test_blocked_bot_marks_agent_unreachable(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        await make_piece(s, agent)
        await make_piece(s, agent)
    assert agent.telegram_chat_id is not None
    notifier = RecordingNotifier(blocked_chats={agent.telegram_chat_id})
    stats = await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
    assert stats.failed == 1 and stats.sent == 0  # stopped after the first 403
    async with database.unit_of_work() as s:
        stored = await agents_repo.get_agent(s, agent.id)
    assert stored is not None and stored.telegram_unreachable_at is not None
    assert len(notifier.alerts) == 1 and "blocked the bot" in notifier.alerts[0]
    # no more attempts while unreachable
    stats = await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
    assert stats.failed == 0 and stats.sent == 0


async def test_resend_drafts_sends_every_waiting_draft(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        await make_piece(s, agent)
        await make_piece(s, agent, status="approved_for_posting")
    notifier = RecordingNotifier()
    await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
    assert agent.telegram_user_id is not None
    count = await delivery.resend_drafts(
        database, notifier, telegram_user_id=agent.telegram_user_id
    )
    assert count == 1 and len(notifier.drafts) == 2
    assert len(notifier.superseded) == 1
    assert all(isinstance(d.piece_id, uuid.UUID) for d in notifier.drafts)
