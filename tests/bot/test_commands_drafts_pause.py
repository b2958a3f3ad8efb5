"""/drafts, /pause, /resume and /help through the real bot: thin handlers over one
service call each (services.notifying.delivery, services.publishing.publish_pause)."""

from __future__ import annotations

from bot.handler_kit import NOT_ADMIN
from bot.handlers.start import STRANGER
from services.publishing import publish_pause
from tests.bot.conftest import ADMIN_ID, BotHarness, harness  # noqa: F401
from tests.factories import make_agent, make_piece


async def test_drafts_resends_what_waits_and_turns_strangers_away(
    harness: BotHarness,  # noqa: F811
) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=8181)
        await make_agent(s, telegram_user_id=8182)
        await make_agent(s, telegram_user_id=8183, is_active=False)
        await make_piece(s, agent)
    stranger, idle, gone = h.fake.user(8180), h.fake.user(8182), h.fake.user(8183)
    for user in (stranger, gone):
        await user.send_command("/drafts")
        assert (await user.next_message()).content == STRANGER
    await idle.send_command("/drafts")
    assert (await idle.next_message()).content == "No drafts are waiting for you right now. 🎉"

    chris = h.fake.user(8181)
    await chris.send_command("/drafts")
    draft = await chris.wait_message(lambda m: any("Approve" in b for b in m.button_labels))
    assert "New listing post" in draft.content


async def test_pause_and_resume_are_for_admins(harness: BotHarness) -> None:  # noqa: F811
    h = harness
    admin, user = h.fake.user(ADMIN_ID), h.fake.user(8190)
    await user.send_command("/pause")
    assert (await user.next_message()).content == NOT_ADMIN
    assert not await publish_pause.is_paused(h.database)

    await admin.send_command("/pause")
    assert "Publishing is paused" in (await admin.next_message()).content
    assert await publish_pause.is_paused(h.database)
    await admin.send_command("/resume")
    assert "Publishing is running again" in (await admin.next_message()).content
    assert not await publish_pause.is_paused(h.database)


async def test_help_shows_admin_commands_to_admins_only(harness: BotHarness) -> None:  # noqa: F811
    h = harness
    admin, user = h.fake.user(ADMIN_ID), h.fake.user(8191)
    await user.send_command("/help")
    assert "/drafts" in (text := (await user.next_message()).content) and "/pause" not in text
    await admin.send_command("/help")
    assert "/drafts" in (text := (await admin.next_message()).content) and "/pause" in text
