"""Delivery through the real bot when Telegram says no: refused messages are recorded once
and never retried, passing failures are retried with back-off up to a cap, admins are told
once, and parts already on the phone (the photo album) are never sent again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from db.models import ContentPiece, Notification
from services.notifying import delivery
from services.notifying.notification_rows import notify
from tests.bot.conftest import ADMIN_ID, BotHarness
from tests.factories import make_agent, make_listing, make_piece
from tests.fakes.telegram_api import FakeUser

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
ADDRESS = "4821 Heron Bay Drive"
M = TypeVar("M", ContentPiece, Notification)


async def _draft(h: BotHarness, tg: int, photos: int) -> ContentPiece:
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=tg, name="Chris Doe")
        urls = [f"https://holidaybuilders.com/photo-{tg}-{i}.jpg" for i in range(photos)]
        listing = await make_listing(s, address=ADDRESS, image_urls=urls)
        return await make_piece(s, agent, listing)


async def _round(h: BotHarness, at: datetime) -> delivery.DeliveryStats:
    return await delivery.deliver_drafts(
        h.database, h.runtime.notifier, default_timezone="UTC", now=at
    )


async def _row(h: BotHarness, model: type[M], row_id: uuid.UUID) -> M:
    async with h.database.unit_of_work() as s:
        row = await s.get(model, row_id)
    assert row is not None
    return row


async def _piece(h: BotHarness, piece_id: uuid.UUID) -> ContentPiece:
    return await _row(h, ContentPiece, piece_id)


def _calls(h: BotHarness, method: str, chat_id: int) -> int:
    return sum(1 for c in h.fake.calls_to(method) if str(c.params.get("chat_id")) == str(chat_id))


async def test_chat_not_found_is_recorded_once_and_never_retried(harness: BotHarness) -> None:
    h = harness
    admin = h.fake.user(ADMIN_ID)
    # The agent's chat id is one Telegram does not know: every call answers 400.
    piece = await _draft(h, 7301, photos=3)

    stats = await _round(h, T0)
    assert (stats.sent, stats.failed) == (0, 1)
    row = await _piece(h, piece.id)
    assert row.delivered_version is None
    assert row.delivery_error is not None and "Chat not found" in row.delivery_error
    alert = await admin.wait_message(lambda m: "Chat not found" in m.content)
    assert "Chris Doe" in alert.content and ADDRESS in alert.content
    tried = (_calls(h, "sendMediaGroup", 7301), _calls(h, "sendMessage", 7301))
    assert tried == (1, 1)

    for later in (T0 + timedelta(minutes=1), T0 + timedelta(days=1)):
        stats = await _round(h, later)
        assert (stats.sent, stats.failed) == (0, 0)
    assert (_calls(h, "sendMediaGroup", 7301), _calls(h, "sendMessage", 7301)) == tried
    assert len(admin.messages) == 1


async def test_blocked_bot_stops_messages_and_admins_hear_once(harness: BotHarness) -> None:
    h = harness
    admin = h.fake.user(ADMIN_ID)
    await _draft(h, 7302, photos=1)
    h.fake.user(7302).block_bot()

    assert (await _round(h, T0)).failed == 1
    alert = await admin.wait_message(lambda m: "blocked the bot" in m.content)
    assert "Chris Doe" in alert.content
    assert (await _round(h, T0 + timedelta(hours=1))).failed == 0
    assert _calls(h, "sendPhoto", 7302) == 1 and _calls(h, "sendMessage", 7302) == 0
    assert len(admin.messages) == 1


async def test_flood_wait_is_honoured_and_the_album_is_not_sent_again(
    harness: BotHarness,
) -> None:
    h = harness
    user = h.fake.user(7303)
    piece = await _draft(h, 7303, photos=3)
    h.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 120", retry_after=120)

    assert (await _round(h, T0)).failed == 1
    row = await _piece(h, piece.id)
    assert (row.delivery_version, row.delivery_parts, row.delivery_attempts) == (1, 1, 1)
    assert row.delivery_error is None and row.delivery_retry_at is not None
    # The back-off alone would allow a retry after a minute; Telegram asked for two.
    assert row.delivery_retry_at >= T0 + timedelta(seconds=120)
    assert len([m for m in user.messages if m.photo]) == 3

    assert (await _round(h, T0 + timedelta(seconds=90))).failed == 0
    assert _calls(h, "sendMessage", 7303) == 1

    stats = await _round(h, T0 + timedelta(seconds=121))
    assert (stats.sent, stats.failed) == (1, 0)
    assert _calls(h, "sendMediaGroup", 7303) == 1  # the album went out once
    assert len([m for m in user.messages if m.photo]) == 3
    draft = user.messages[-1]
    assert draft.button("Approve")
    row = await _piece(h, piece.id)
    assert row.delivered_version == 1 and row.telegram_message_id == draft.message_id
    assert (row.delivery_version, row.delivery_parts, row.delivery_attempts) == (None, 0, 0)


async def test_server_errors_back_off_then_fail_for_good_after_the_cap(
    harness: BotHarness,
) -> None:
    h = harness
    admin = h.fake.user(ADMIN_ID)
    user = h.fake.user(7304)
    piece = await _draft(h, 7304, photos=1)
    h.fake.fail_next("sendMessage", 500, "Internal Server Error", times=delivery.MAX_ATTEMPTS)

    at, waits = T0, []
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        stats = await _round(h, at)
        assert (stats.sent, stats.failed) == (0, 1)
        row = await _piece(h, piece.id)
        assert row.delivery_attempts == attempt
        if attempt < delivery.MAX_ATTEMPTS:
            assert row.delivery_error is None and row.delivery_retry_at is not None
            # Too early: nothing is tried.
            assert (await _round(h, row.delivery_retry_at - timedelta(seconds=1))).failed == 0
            waits.append((row.delivery_retry_at - at).total_seconds())
            at = row.delivery_retry_at
    assert waits == [60, 120, 240, 480, 960, 1920, 3600]
    assert row.delivery_error is not None and "Internal Server Error" in row.delivery_error
    assert row.delivery_retry_at is None
    alert = await admin.wait_message(lambda m: "8 attempts" in m.content)
    assert ADDRESS in alert.content and "Chris Doe" in alert.content

    assert (await _round(h, at + timedelta(days=1))).failed == 0
    assert _calls(h, "sendMessage", 7304) == delivery.MAX_ATTEMPTS
    assert _calls(h, "sendPhoto", 7304) == 1  # the photo went out once, on the first try
    assert len([m for m in user.messages if m.photo]) == 1
    assert len(admin.messages) == 1


async def _notification(h: BotHarness, tg: int) -> tuple[FakeUser, uuid.UUID]:
    user = h.fake.user(tg)
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=tg, name="Chris Doe")
        note = await notify(s, agent, "post_success", "Posted on Facebook")
        await s.flush()
    return user, note.id


async def _note(h: BotHarness, note_id: uuid.UUID) -> Notification:
    return await _row(h, Notification, note_id)


async def _notes_round(h: BotHarness, at: datetime) -> tuple[int, int]:
    stats = await delivery.deliver_notifications(
        h.database, h.runtime.notifier, default_timezone="UTC", now=at
    )
    return stats.sent, stats.failed


async def test_a_refused_notification_fails_once_a_passing_error_is_retried(
    harness: BotHarness,
) -> None:
    h = harness
    admin = h.fake.user(ADMIN_ID)
    refused_user, refused = await _notification(h, 7305)
    h.fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    assert await _notes_round(h, T0) == (0, 1)
    row = await _note(h, refused)
    assert row.delivery_status == "failed" and "Can't parse entities" in (row.delivery_error or "")
    await admin.wait_message(lambda m: "Can't parse entities" in m.content)

    passing_user, passing = await _notification(h, 7306)
    h.fake.fail_next("sendMessage", 502, "Bad Gateway")
    assert await _notes_round(h, T0) == (0, 1)
    row = await _note(h, passing)
    assert row.delivery_status == "pending" and row.delivery_attempts == 1
    assert row.delivery_retry_at == T0 + timedelta(minutes=1)

    assert await _notes_round(h, T0 + timedelta(minutes=1)) == (1, 0)
    assert (await _note(h, passing)).delivery_status == "sent"
    assert "Posted on Facebook" in passing_user.messages[-1].content
    assert refused_user.messages == []  # the refused one was not tried again
    assert _calls(h, "sendMessage", 7305) == 1
    assert len(admin.messages) == 1
