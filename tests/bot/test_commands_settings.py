"""/settings toggles, /times, /quiet and /timezone through the real PTB Application."""

from __future__ import annotations

import asyncio
import uuid

from db.models import Agent
from services.notifying.notification_rows import NOTIFICATION_LABELS
from tests.bot.conftest import BotHarness
from tests.factories import make_agent


async def _agent(h: BotHarness, agent_id: uuid.UUID) -> Agent:
    async with h.database.unit_of_work() as s:
        row = await s.get(Agent, agent_id)
    assert row is not None
    return row


async def _new_agent(h: BotHarness, telegram_user_id: int, **values: object) -> Agent:
    async with h.database.unit_of_work() as s:
        return await make_agent(s, telegram_user_id=telegram_user_id, **values)


async def test_settings_shows_everything_with_defaults(harness: BotHarness) -> None:
    h = harness
    await _new_agent(h, 7001)
    user = h.fake.user(7001)
    await user.send_command("/settings")
    msg = await user.next_message()
    text = msg.content
    assert "Posting times: 09:00 and 17:00 (default)" in text
    assert "Quiet hours: off" in text
    assert "Time zone: UTC (default)" in text
    assert "/times 09:00 17:30" in text and "/quiet off" in text and "/timezone" in text
    # one toggle per notification type, all on by default, every button signed and short
    assert len(msg.buttons) == 8
    assert any("Weekly digest" in label for label in msg.button_labels)
    assert all(label.endswith(": on") for label in msg.button_labels)
    assert any("Price changes" in label for label in msg.button_labels)
    for button in msg.buttons:
        data = str(button["callback_data"])
        assert data.startswith("s:") and len(data.encode()) <= 64


async def test_toggle_flips_persists_and_edits_in_place(harness: BotHarness) -> None:
    h = harness
    agent = await _new_agent(h, 7002)
    user = h.fake.user(7002)
    await user.send_command("/settings")
    msg = await user.next_message()

    qid = await user.tap(msg.message_id, "Price changes")
    assert (await h.fake.wait_answer(qid)).answered
    await user.wait_for(lambda: msg.edits or None)
    assert any(label.endswith("Price changes: off") for label in msg.button_labels)
    assert len(user.messages) == 1  # edited in place, nothing new sent
    prefs = (await _agent(h, agent.id)).notification_preferences
    assert prefs == {"listing_price_changed": False}

    await h.fake.wait_answer(await user.tap(msg.message_id, "New drafts"))
    await user.wait_for(lambda: len(msg.edits) >= 2 or None)
    assert "drafts wait for you in /drafts" in msg.content
    prefs = (await _agent(h, agent.id)).notification_preferences
    assert prefs == {"listing_price_changed": False, "content_awaiting_approval": False}

    await h.fake.wait_answer(await user.tap(msg.message_id, "Price changes"))
    await user.wait_for(lambda: len(msg.edits) >= 3 or None)
    assert any(label.endswith("Price changes: on") for label in msg.button_labels)
    prefs = (await _agent(h, agent.id)).notification_preferences
    assert prefs == {"listing_price_changed": True, "content_awaiting_approval": False}


async def test_double_tap_on_a_toggle_sets_it_once(harness: BotHarness) -> None:
    h = harness
    agent = await _new_agent(h, 7003)
    user = h.fake.user(7003)
    await user.send_command("/settings")
    msg = await user.next_message()
    data = str(msg.button("Posts published")["callback_data"])
    q1 = await user.tap_data(msg.message_id, data)
    q2 = await user.tap_data(msg.message_id, data)
    await h.fake.wait_answer(q1)
    await h.fake.wait_answer(q2)
    await user.wait_for(lambda: msg.edits or None)
    prefs = (await _agent(h, agent.id)).notification_preferences
    # The button says "turn off": both taps agree, so it stays off (no flip back).
    assert prefs == {"post_success": False}
    assert any(label.endswith("Posts published: off") for label in msg.button_labels)


async def test_forged_and_foreign_toggle_taps_change_nothing(harness: BotHarness) -> None:
    h = harness
    owner = await _new_agent(h, 7004)
    await _new_agent(h, 7005)
    alice, mallory = h.fake.user(7004), h.fake.user(7005)
    await alice.send_command("/settings")
    alice_msg = await alice.next_message()
    await mallory.send_command("/settings")
    mallory_msg = await mallory.next_message()

    answer = await h.fake.wait_answer(await mallory.tap_data(mallory_msg.message_id, "s:xyz"))
    assert "not valid" in (answer.text or "")
    data = str(alice_msg.button("Price changes")["callback_data"])
    tampered = data.replace("price.0", "price.1")
    answer = await h.fake.wait_answer(await alice.tap_data(alice_msg.message_id, tampered))
    assert "not valid" in (answer.text or "")

    # A genuine button of Alice's settings, replayed by Mallory from her own chat.
    answer = await h.fake.wait_answer(await mallory.tap_data(mallory_msg.message_id, data))
    assert answer.answered
    await asyncio.sleep(0.3)  # the handler answers before its transaction; let it finish
    assert (await _agent(h, owner.id)).notification_preferences == {}
    assert not mallory_msg.edits and not alice_msg.edits


async def test_times_stored_and_bad_input_explained(harness: BotHarness) -> None:
    h = harness
    agent = await _new_agent(h, 7006)
    user = h.fake.user(7006)
    await user.send_command("/times", "17:30 9:00 09:00")
    reply = await user.next_message()
    assert "Posting times set: 09:00 and 17:30 (UTC)" in reply.content
    assert (await _agent(h, agent.id)).posting_times == ["09:00", "17:30"]

    for arg, expected in [
        ("9am", "not a 24-hour time"),
        ("", "one to four times"),
        ("06:00 09:00 12:00 15:00 18:00", "At most 4"),
        ("25:00", "not a 24-hour time"),
    ]:
        await user.send_command("/times", arg or None)
        reply = await user.next_message()
        assert expected in reply.content, (arg, reply.content)
        assert "/times 09:00 17:30" in reply.content
    assert (await _agent(h, agent.id)).posting_times == ["09:00", "17:30"]

    await user.send_command("/settings")
    assert "Posting times: 09:00 and 17:30\n" in (await user.next_message()).content


async def test_quiet_hours_stored_and_cleared(harness: BotHarness) -> None:
    h = harness
    agent = await _new_agent(h, 7007)
    user = h.fake.user(7007)
    await user.send_command("/quiet", "21:00 07:00")
    reply = await user.next_message()
    assert "Quiet hours set: 21:00–07:00 (UTC)" in reply.content
    row = await _agent(h, agent.id)
    assert (row.quiet_hours_start, row.quiet_hours_end) == ("21:00", "07:00")

    await user.send_command("/quiet", "22:00 22:00")
    assert "different times" in (await user.next_message()).content
    await user.send_command("/quiet", "late")
    assert "/quiet 21:00 07:00" in (await user.next_message()).content
    row = await _agent(h, agent.id)
    assert (row.quiet_hours_start, row.quiet_hours_end) == ("21:00", "07:00")

    await user.send_command("/settings")
    assert "Quiet hours: 21:00–07:00" in (await user.next_message()).content

    await user.send_command("/quiet", "off")
    assert "Quiet hours are off" in (await user.next_message()).content
    row = await _agent(h, agent.id)
    assert (row.quiet_hours_start, row.quiet_hours_end) == (None, None)


async def test_timezone_validated_and_stored(harness: BotHarness) -> None:
    h = harness
    agent = await _new_agent(h, 7008)
    user = h.fake.user(7008)
    await user.send_command("/timezone", "america/chicago")
    reply = await user.next_message()
    assert "Time zone set: America/Chicago" in reply.content
    assert (await _agent(h, agent.id)).timezone == "America/Chicago"

    await user.send_command("/timezone", "Mars/Olympus_Mons")
    reply = await user.next_message()
    assert "not a time zone I know" in reply.content and "America/Chicago" in reply.content
    await user.send_command("/timezone", "<b>")
    assert "not a time zone I know" in (await user.next_message()).content
    await user.send_command("/timezone")
    assert "/timezone America/Chicago" in (await user.next_message()).content
    assert (await _agent(h, agent.id)).timezone == "America/Chicago"

    await user.send_command("/settings")
    text = (await user.next_message()).content
    assert "Time zone: America/Chicago\n" in text


async def test_strangers_are_told_to_get_an_invite(harness: BotHarness) -> None:
    h = harness
    stranger = h.fake.user(7999, "Eve")
    for command in ("/settings", "/times 09:00", "/quiet off", "/timezone UTC"):
        await stranger.send_text(command)
        reply = await stranger.next_message()
        assert "ask your administrator for an invite" in reply.content, command


async def test_inactive_agent_is_refused(harness: BotHarness) -> None:
    h = harness
    await _new_agent(h, 7009, is_active=False)
    user = h.fake.user(7009)
    await user.send_command("/settings")
    assert "for agents" in (await user.next_message()).content


async def test_taps_on_every_toggle_at_once_lose_nothing(harness: BotHarness) -> None:
    h = harness
    agent = await _new_agent(h, 7010)
    user = h.fake.user(7010)
    await user.send_command("/settings")
    msg = await user.next_message()
    datas = [str(b["callback_data"]) for b in msg.buttons]
    queries = [await user.tap_data(msg.message_id, data) for data in datas]
    for qid in queries:
        await h.fake.wait_answer(qid)
    expected = {t: False for t in NOTIFICATION_LABELS}
    prefs: object = None
    for _ in range(50):  # the handlers answer first and commit right after
        prefs = (await _agent(h, agent.id)).notification_preferences
        if prefs == expected:
            break
        await asyncio.sleep(0.05)
    assert prefs == expected
    await user.send_command("/settings")
    fresh = await user.next_message()
    assert all(label.endswith(": off") for label in fresh.button_labels)
