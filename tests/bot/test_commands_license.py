"""The agent's license number: /license for the agent, /setlicense for an admin."""

from __future__ import annotations

import uuid

from db.models import Agent
from tests.bot.conftest import ADMIN_ID, BotHarness
from tests.factories import make_agent


async def _license(h: BotHarness, agent_id: uuid.UUID) -> str | None:
    async with h.database.unit_of_work() as s:
        row = await s.get(Agent, agent_id)
    assert row is not None
    return row.license_number


async def test_agent_sets_shows_and_clears_their_license(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=7401)
    user = h.fake.user(7401)
    await user.send_command("/settings")
    assert "License number: not set" in (await user.next_message()).content

    await user.send_command("/license", "#SL3412345")
    assert "License number set: SL3412345" in (await user.next_message()).content
    assert await _license(h, agent.id) == "SL3412345"
    await user.send_command("/settings")
    assert "License number: SL3412345" in (await user.next_message()).content

    for bad in ("<b>hi</b>", "x" * 41, None):
        await user.send_command("/license", bad)
        assert "/license SL3412345" in (await user.next_message()).content
    assert await _license(h, agent.id) == "SL3412345"

    await user.send_command("/license", "off")
    assert "cleared" in (await user.next_message()).content
    assert await _license(h, agent.id) is None


async def test_admin_sets_an_agents_license(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, email="chris@example.com", name="Chris Doe")
    admin = h.fake.user(ADMIN_ID)
    await admin.send_command("/setlicense", "chris@example.com BK 3301")
    assert "License number for Chris Doe: BK 3301" in (await admin.next_message()).content
    assert await _license(h, agent.id) == "BK 3301"
    await admin.send_command("/setlicense", "chris@example.com")
    assert "Use: /setlicense <email>" in (await admin.next_message()).content
    assert await _license(h, agent.id) == "BK 3301"
    await admin.send_command("/setlicense", "ghost@example.com 123")
    assert "No agent has the email" in (await admin.next_message()).content
    await admin.send_command("/setlicense", "chris@example.com off")
    assert "cleared for Chris Doe" in (await admin.next_message()).content
    assert await _license(h, agent.id) is None
