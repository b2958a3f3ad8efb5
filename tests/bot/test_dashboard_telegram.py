"""The dashboard seen from Telegram, with the real bot and the fake Bot API: /dashboard
sends a login link that signs in, and a click on the dashboard redraws the draft on the
agent's phone (so its old buttons cannot mislead)."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from bot.dashboard_sync import TelegramDraftSync
from db.models import Agent, User
from services.dashboard_auth import NOT_FOR_YOU
from services.redaction import redact
from tests.bot.conftest import ADMIN_ID, BotHarness
from tests.factories import make_account, make_agent, make_piece
from tests.web.dashboard_kit import dashboard_app, page_csrf, serve, sign_in_by_link

LINK = re.compile(r"(http://[^\s\"<]+)/login/link\?token=([A-Za-z0-9_-]+)")


async def _ask_for_link(h: BotHarness, uid: int) -> str:
    """Send /dashboard; the bot's answer (the first message after the command)."""
    user = h.fake.user(uid)
    before = len(user.messages)
    await user.send_command("/dashboard")
    await user.wait_for(lambda: len(user.messages) > before or None)
    return user.messages[before].content


async def test_dashboard_sends_an_agent_a_link_that_signs_in(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=6161, name="Chris Doe")
    reply = await _ask_for_link(h, 6161)
    found = LINK.search(reply)
    assert found, reply
    assert found.group(1) == h.settings.public_base_url()
    assert "15 minutes" in reply
    # A log line holding the link (PTB logs what it sends at DEBUG) never shows the token.
    assert found.group(2) not in redact(f"sendMessage text={reply!r}")
    async with serve(dashboard_app(h.database)) as client:
        signed = await sign_in_by_link(client, found.group(2))
        assert signed.status == 200 and "Chris Doe" in await signed.text()
    # A second /dashboard: a new link for the same user.
    again = LINK.search(await _ask_for_link(h, 6161))
    assert again and again.group(2) != found.group(2)
    async with h.database.unit_of_work() as s:
        users = (await s.execute(select(User))).scalars().all()
    assert [(u.email, u.agent_id, u.is_admin) for u in users] == [(agent.email, agent.id, False)]
    assert users[0].last_login_at is not None


async def test_dashboard_makes_an_admin_login_for_an_admin(harness: BotHarness) -> None:
    h = harness
    found = LINK.search(await _ask_for_link(h, ADMIN_ID))
    assert found
    async with serve(dashboard_app(h.database)) as client:
        signed = await sign_in_by_link(client, found.group(2))
        assert "admin" in await signed.text()
    async with h.database.unit_of_work() as s:
        user = (await s.execute(select(User))).scalar_one()
    assert user.is_admin and user.telegram_user_id == ADMIN_ID and user.agent_id is None


async def test_dashboard_refuses_strangers_and_deactivated_agents(harness: BotHarness) -> None:
    h = harness
    assert NOT_FOR_YOU in await _ask_for_link(h, 777)
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=6262)
        await s.execute(update(Agent).where(Agent.id == agent.id).values(is_active=False))
    reply = await _ask_for_link(h, 6262)
    assert "deactivated" in reply and not LINK.search(reply)
    async with h.database.unit_of_work() as s:
        assert (await s.execute(select(User))).scalars().all() == []


async def test_a_dashboard_click_redraws_the_draft_on_the_phone(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=6363)
        await make_account(s, agent, "facebook", display_name="Chris Sells Ocala")
        piece = await make_piece(s, agent)
    phone = h.fake.user(6363)
    await h.deliver()
    draft = await phone.wait_message(lambda m: bool(m.buttons))
    old_approve = draft.button("Approve")["callback_data"]
    found = LINK.search(await _ask_for_link(h, 6363))
    assert found
    sync = TelegramDraftSync(h.app.bot, h.app.bot_data)
    async with serve(dashboard_app(h.database, sync=sync)) as client:
        await sign_in_by_link(client, found.group(2))
        response = await client.post(
            f"/drafts/{piece.id}/approve",
            data={"csrf": await page_csrf(client), "version": "1"},
            allow_redirects=False,
        )
        assert response.status == 303
    await phone.wait_for(lambda: draft.edits or None)
    assert "Approved" in draft.content and "Chris Sells Ocala" in draft.content
    assert "(from the dashboard)" in draft.content
    assert any("Post now" in b for b in draft.button_labels)
    assert not any("Approve" in b for b in draft.button_labels)
    # The old Approve button, if tapped anyway, changes nothing and says why.
    qid = await phone.tap_data(draft.message_id, str(old_approve))
    assert "already approved" in ((await h.fake.wait_answer(qid)).text or "")
