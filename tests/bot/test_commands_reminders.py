"""/reminders, /drafts showing each draft's age, and the reminder as a reply, in Telegram."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import update

from db.base import utcnow
from db.models import Agent, ContentPiece
from services.notifying.reminders import send_reminders
from tests.bot.conftest import BotHarness
from tests.factories import make_agent, make_listing, make_piece


async def test_agent_sets_reminder_hours(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=7601)
    user = h.fake.user(7601)
    await user.send_command("/settings")
    assert "Draft reminders: after 24 hours (default)" in (await user.next_message()).content
    await user.send_command("/reminders", "1.5")
    assert "one reminder after 1.5 hours" in (await user.next_message()).content
    await user.send_command("/reminders", "soon")
    assert "/reminders 12" in (await user.next_message()).content
    async with h.database.unit_of_work() as s:
        row = await s.get(Agent, agent.id)
    assert row is not None and row.draft_reminder_hours == 1.5
    await user.send_command("/reminders", "off")
    assert "off" in (await user.next_message()).content
    await user.send_command("/settings")
    assert "Draft reminders: off" in (await user.next_message()).content


async def _message_id_recorded(h: BotHarness, piece_id: uuid.UUID, message_id: int) -> None:
    """Wait until the bot has stored the draft's message id: it does so once Telegram has
    answered the send, a moment after the user can already see the message."""
    for _ in range(400):
        async with h.database.unit_of_work() as s:
            row = await s.get(ContentPiece, piece_id)
        if row is not None and row.telegram_message_id == message_id:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"the draft's message id {message_id} was never recorded")


async def test_drafts_shows_age_and_the_reminder_replies_to_the_draft(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=7602)
        piece = await make_piece(s, agent, await make_listing(s))
    user = h.fake.user(7602)
    await user.send_command("/drafts")
    draft = await user.wait_message(lambda m: bool(m.buttons))
    assert "Waiting for you for 0 minutes" in draft.content
    await _message_id_recorded(h, piece.id, draft.message_id)
    started = utcnow() - timedelta(hours=26)
    async with h.database.unit_of_work() as s:
        await s.execute(
            update(ContentPiece)
            .where(ContentPiece.id == piece.id)
            .values(created_at=started, updated_at=started)
        )
    sent = await send_reminders(
        h.database, h.runtime.notifier, default_timezone="UTC", default_hours=24.0
    )
    assert sent == 1
    reminder = await user.wait_message(lambda m: "⏰" in m.content)
    assert reminder.reply_to_message_id == draft.message_id
    assert "waiting for 26 hours" in reminder.content
