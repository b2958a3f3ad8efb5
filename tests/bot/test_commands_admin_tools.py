"""Admin /agents, /areas, /marketing, /stats, /failed through the real PTB Application."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from db.base import utcnow
from db.models import Agent, AgentInvite, AgentServiceArea, PostSchedule
from db.repositories import accounts as accounts_repo
from db.repositories import agents as agents_repo
from db.repositories import app_state
from db.status import ContentStatus, ListingStatus
from services.onboarding import add_agent
from tests.bot.conftest import ADMIN_ID, BotHarness
from tests.factories import make_account, make_agent, make_listing, make_piece

ADMIN_COMMANDS = [
    "/agents",
    "/areas chris@example.com city:Ocala",
    "/marketing chris@example.com on",
    "/setlicense chris@example.com SL123",
    "/stats",
    "/failed",
]


async def _areas(h: BotHarness, email: str) -> set[tuple[str, str]]:
    async with h.database.unit_of_work() as s:
        agent = await agents_repo.get_agent_by_email(s, email)
        assert agent is not None
        rows = await s.execute(
            select(AgentServiceArea.kind, AgentServiceArea.value).where(
                AgentServiceArea.agent_id == agent.id
            )
        )
        return {(k, v) for k, v in rows.all()}


async def test_non_admin_is_refused_every_admin_command(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        await make_agent(s, telegram_user_id=9101, email="chris@example.com")
    agent_user = h.fake.user(9101)
    for command in ADMIN_COMMANDS:
        await agent_user.send_text(command)
        reply = await agent_user.next_message()
        assert "for administrators" in reply.content, command
    assert await _areas(h, "chris@example.com") == set()
    async with h.database.unit_of_work() as s:
        agent = await agents_repo.get_agent_by_email(s, "chris@example.com")
    assert agent is not None and agent.requires_marketing_approval is False
    assert agent.license_number is None


async def test_agents_lists_status_areas_and_accounts(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        chris = await make_agent(
            s, telegram_user_id=9201, name="Chris <Doe>", email="chris@example.com"
        )
        await agents_repo.set_service_areas(
            s, chris.id, [("city", "Ocala"), ("community", "Marion Oaks")]
        )
        await make_account(s, chris, "facebook")
        await make_account(s, chris, "instagram")
        gone = await make_account(s, chris, "facebook")
        await accounts_repo.update_account(s, gone.id, is_active=False)
        await make_agent(
            s,
            telegram_user_id=9202,
            name="Blocked Bea",
            requires_marketing_approval=True,
            telegram_unreachable_at=utcnow(),
        )
        await add_agent(s, email="new@example.com", name="Newbie Ned")
        old = await add_agent(s, email="old@example.com", name="Old Olga")
        await s.flush()
    async with h.database.unit_of_work() as s:
        invite = (
            await s.execute(select(AgentInvite).where(AgentInvite.agent_id == old.agent.id))
        ).scalar_one()
        invite.expires_at = utcnow() - timedelta(days=1)
    admin = h.fake.user(ADMIN_ID)
    await admin.send_command("/agents")
    text = (await admin.next_message()).content
    assert "Agents (4)" in text
    blocks = {block.split("\n")[0]: block for block in text.split("\n\n")[1:]}
    chris_block = blocks["Chris <Doe> — chris@example.com"]
    assert "✅ linked · marketing sign-off off · 2 accounts" in chris_block
    assert "Areas: city Ocala, community Marion Oaks" in chris_block
    bea = next(b for k, b in blocks.items() if k.startswith("Blocked Bea"))
    assert "marketing sign-off on" in bea and "Unreachable" in bea and "0 accounts" in bea
    assert "all homes (no service areas)" in bea
    assert "⏳ invite pending" in blocks["Newbie Ned — new@example.com"]
    assert "not linked, no open invite" in blocks["Old Olga — old@example.com"]


async def test_agents_empty_and_long_lists_fit_telegram(harness: BotHarness) -> None:
    h = harness
    admin = h.fake.user(ADMIN_ID)
    await admin.send_command("/agents")
    assert "No agents yet" in (await admin.next_message()).content
    async with h.database.unit_of_work() as s:
        for n in range(40):
            agent = await make_agent(s, name=f"Agent {n:02d} " + "Longname" * 10)
            await agents_repo.set_service_areas(
                s, agent.id, [("community", f"Community {n} " + "y" * 80)]
            )
    await admin.send_command("/agents")
    parts = [await admin.next_message(), await admin.next_message()]
    assert all(len(p.content) <= 4096 for p in parts)
    assert "Agent 00" in parts[0].content and "Agent 39" not in parts[0].content
    admin.skip_pending()


async def test_areas_set_replace_and_clear(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        await make_agent(s, email="chris@example.com", name="Chris Doe")
    admin = h.fake.user(ADMIN_ID)
    await admin.send_command("/areas", 'chris@example.com city:Ocala community:"Marion Oaks"')
    reply = await admin.next_message()
    assert "Service areas for Chris Doe (chris@example.com)" in reply.content
    assert "city Ocala, community Marion Oaks" in reply.content
    assert await _areas(h, "chris@example.com") == {("city", "ocala"), ("community", "marion oaks")}

    # Phones type curly quotes; unquoted multi-word names work too; it replaces the old set.
    await admin.send_command(
        "/areas", "Chris@Example.com community:“Silver Springs Shores” city:Belleview"
    )
    await admin.next_message()
    assert await _areas(h, "chris@example.com") == {
        ("community", "silver springs shores"),
        ("city", "belleview"),
    }

    await admin.send_command("/areas", "chris@example.com all")
    assert "every home is theirs" in (await admin.next_message()).content
    assert await _areas(h, "chris@example.com") == set()


async def test_areas_bad_input_changes_nothing(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, email="chris@example.com")
        await agents_repo.set_service_areas(s, agent.id, [("city", "ocala")])
    admin = h.fake.user(ADMIN_ID)
    cases = [
        (None, "/areas &lt;email&gt;"),
        ("chris@example.com", "Start each area with city: or community:"),
        ("chris@example.com Ocala", "Start each area with city: or community:"),
        ("chris@example.com city:", "city: needs a name"),
        ("nobody@example.com city:Ocala", "No agent has the email nobody@example.com"),
        ("city:Ocala", "Start with the agent's email"),
    ]
    for arg, expected in cases:
        await admin.send_command("/areas", arg)
        reply = await admin.next_message()
        wanted = expected.replace("&lt;", "<").replace("&gt;", ">")
        assert wanted in reply.content, (arg, reply.content)
    assert await _areas(h, "chris@example.com") == {("city", "ocala")}


async def test_marketing_flag_on_and_off(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, email="chris@example.com", name="Chris Doe")
    admin = h.fake.user(ADMIN_ID)

    async def flag() -> bool:
        async with h.database.unit_of_work() as s:
            row = await s.get(Agent, agent.id)
        assert row is not None
        return row.requires_marketing_approval

    await admin.send_command("/marketing", "chris@example.com on")
    assert "Marketing sign-off is on for Chris Doe" in (await admin.next_message()).content
    assert await flag() is True
    await admin.send_command("/marketing", "chris@example.com off")
    assert "Marketing sign-off is off for Chris Doe" in (await admin.next_message()).content
    assert await flag() is False
    for arg in ("chris@example.com maybe", "chris@example.com", None):
        await admin.send_command("/marketing", arg)
        assert "/marketing <email> on" in (await admin.next_message()).content
    await admin.send_command("/marketing", "ghost@example.com on")
    assert "No agent has the email" in (await admin.next_message()).content
    assert await flag() is False


async def test_stats_counts_everything(harness: BotHarness) -> None:
    h = harness
    now = utcnow()
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s)
        await make_agent(s, telegram_unreachable_at=now)
        await add_agent(s, email="unlinked@example.com", name="Not Linked")
        account = await make_account(s, agent)
        sold = await make_listing(s, status=ListingStatus.SOLD)
        home = await make_listing(s)
        piece = await make_piece(s, agent, sold, status=ContentStatus.POSTED_SUCCESSFULLY)
        await make_piece(s, agent, home)
        await make_piece(s, agent, home)
        for when, status in [
            (now - timedelta(days=1), "success"),
            (now - timedelta(days=2), "failed"),
            (now - timedelta(days=9), "failed"),  # outside the 7 days
            (now + timedelta(days=1), "pending"),
        ]:
            s.add(
                PostSchedule(
                    content_piece_id=piece.id,
                    social_media_account_id=account.id,
                    scheduled_at=when,
                    status=status,
                )
            )
    admin = h.fake.user(ADMIN_ID)
    await admin.send_command("/stats")
    text = (await admin.next_message()).content
    assert "Publishing: ▶️ running" in text
    assert "Agents: 3 active, 2 linked, 1 unreachable" in text
    assert "Homes: active 1 · sold 1" in text
    assert "Drafts: waiting for the agent 2 · posted 1" in text
    assert "Posts, last 7 days: published 1 · failed 1" in text
    assert "Posts coming up: 1" in text

    async with h.database.unit_of_work() as s:
        await app_state.set_value(s, app_state.PUBLISHING_PAUSED, True)
    await admin.send_command("/stats")
    assert "Publishing: ⏸ paused" in (await admin.next_message()).content


async def test_stats_on_an_empty_database(harness: BotHarness) -> None:
    admin = harness.fake.user(ADMIN_ID)
    await admin.send_command("/stats")
    text = (await admin.next_message()).content
    assert "Homes: none" in text and "Drafts: none" in text and "Agents: 0 active, 0 linked" in text


async def test_failed_lists_recent_failures_escaped_and_split(harness: BotHarness) -> None:
    h = harness
    now = utcnow()
    admin = h.fake.user(ADMIN_ID)
    await admin.send_command("/failed")
    assert "No failed posts in the last 14 days" in (await admin.next_message()).content
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, name="Chris & Co")
        account = await make_account(s, agent, "instagram", display_name="@chris")
        piece = await make_piece(s, agent, status=ContentStatus.POSTING_FAILED)
        s.add(
            PostSchedule(
                content_piece_id=piece.id,
                social_media_account_id=account.id,
                scheduled_at=now - timedelta(days=1),
                status="failed",
                error_message="Image aspect ratio <4:5> is not allowed & was refused",
            )
        )
        s.add(
            PostSchedule(
                content_piece_id=piece.id,
                social_media_account_id=account.id,
                scheduled_at=now - timedelta(days=20),
                updated_at=now - timedelta(days=20),
                status="failed",
                error_message="ancient failure",
            )
        )
    await admin.send_command("/failed")
    text = (await admin.next_message()).content
    assert "Failed posts" in text and "Chris & Co" in text and "Instagram · @chris" in text
    assert "Image aspect ratio <4:5> is not allowed & was refused" in text
    assert "ancient failure" not in text

    async with h.database.unit_of_work() as s:
        for n in range(45):
            s.add(
                PostSchedule(
                    content_piece_id=piece.id,
                    social_media_account_id=account.id,
                    scheduled_at=now - timedelta(hours=n + 1),
                    status="failed",
                    error_message=f"error {n} " + "z" * 280,
                )
            )
    await admin.send_command("/failed")
    first = await admin.next_message()
    parts = [first]
    while True:
        try:
            parts.append(await admin.next_message(timeout=1.0))
        except TimeoutError:
            break
    assert len(parts) >= 3
    assert all(len(p.content) <= 4096 for p in parts)
    assert "Failed posts" in parts[0].content
