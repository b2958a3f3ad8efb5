"""/schedule, /listings and /notifications through the real PTB Application."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.render import fmt_dt
from db.base import utcnow
from db.models import Agent, AgentListing, Listing, Notification, PostSchedule
from db.repositories import agents as agents_repo
from db.repositories import app_state, audit
from db.status import ContentStatus, ListingStatus
from tests.bot.conftest import BotHarness
from tests.factories import make_account, make_agent, make_listing, make_piece

CHICAGO = "America/Chicago"


async def _post(
    s: AsyncSession,
    piece_id: object,
    account_id: object,
    when: object,
    status: str,
    **values: object,
) -> PostSchedule:
    row = PostSchedule(
        content_piece_id=piece_id,
        social_media_account_id=account_id,
        scheduled_at=when,
        status=status,
        **values,
    )
    s.add(row)
    await s.flush()
    return row


async def test_schedule_upcoming_and_recent_in_the_agents_zone(harness: BotHarness) -> None:
    h = harness
    now = utcnow()
    soon = now + timedelta(hours=5)
    posted = now - timedelta(days=1)
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=8101, timezone=CHICAGO)
        fb = await make_account(s, agent, "facebook", display_name="Chris <Sells> Ocala")
        ig = await make_account(s, agent, "instagram", display_name="@chris.homes")
        listing = await make_listing(s, address="12 Oak & Pine Ct", city="Ocala")
        piece = await make_piece(s, agent, listing, status=ContentStatus.APPROVED_FOR_POSTING)
        await _post(s, piece.id, fb.id, soon, "pending")
        await _post(
            s,
            piece.id,
            ig.id,
            posted,
            "success",
            posted_at=posted,
            permalink="https://instagram.com/p/abc",
        )
        await _post(
            s,
            piece.id,
            fb.id,
            now - timedelta(days=2),
            "failed",
            error_message="Reconnect <your> page & retry",
        )
        # Another agent's post and a post older than 30 days are not shown.
        other = await make_agent(s, telegram_user_id=8102)
        other_acc = await make_account(s, other, "facebook", display_name="Someone Else")
        other_piece = await make_piece(s, other)
        await _post(s, other_piece.id, other_acc.id, soon, "pending")
        await _post(s, piece.id, fb.id, now - timedelta(days=40), "success", posted_at=None)
    user = h.fake.user(8101)
    await user.send_command("/schedule")
    msg = await user.next_message()
    text = msg.content
    assert f"times in {CHICAGO}" in text
    assert "Coming up" in text and "Recently" in text
    upcoming, recent = text.split("Recently")
    assert fmt_dt(soon, CHICAGO) in upcoming
    assert "Facebook · Chris <Sells> Ocala — 12 Oak & Pine Ct, Ocala — scheduled" in upcoming
    assert fmt_dt(posted, CHICAGO) in recent
    assert "Instagram · @chris.homes" in recent and "✅ posted" in recent
    assert "❌ failed" in recent and "Reconnect <your> page & retry" in recent
    assert "Someone Else" not in text
    assert recent.count("•") == 2
    links = [e for e in msg.entities if e["type"] == "text_link"]
    assert [e["url"] for e in links] == ["https://instagram.com/p/abc"]


async def test_schedule_empty_and_paused(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        await make_agent(s, telegram_user_id=8103)
    user = h.fake.user(8103)
    await user.send_command("/schedule")
    text = (await user.next_message()).content
    assert "Nothing is scheduled yet" in text and "paused" not in text
    async with h.database.unit_of_work() as s:
        await app_state.set_value(s, app_state.PUBLISHING_PAUSED, True)
    await user.send_command("/schedule")
    assert "Publishing is paused" in (await user.next_message()).content


async def test_listings_all_active_without_service_areas(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        await make_agent(s, telegram_user_id=8201)
        old = await make_listing(s, address="1 First St", price=Decimal(299990))
        new = await make_listing(
            s,
            address="2 Second <St>",
            beds=4,
            baths=Decimal("2.5"),
            sqft=2210,
            price=Decimal(412500),
        )
        await make_listing(s, address="3 Sold Way", status=ListingStatus.SOLD)
    user = h.fake.user(8201)
    await user.send_command("/listings")
    msg = await user.next_message()
    text = msg.content
    assert "Active homes (2, newest first)" in text
    assert "Sold Way" not in text
    assert text.index("2 Second <St>") < text.index("1 First St")
    assert "$412,500 · 4 bd · 2.5 ba · 2,210 sq ft · active" in text
    assert "$299,990 · 3 bd · 2 ba · 1,850 sq ft · active" in text
    urls = {e["url"] for e in msg.entities if e["type"] == "text_link"}
    assert urls == {old.source_url, new.source_url}


async def test_listings_assigned_by_service_area_and_capped(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=8202)
        await agents_repo.set_service_areas(s, agent.id, [("city", "Ocala")])
        for n in range(23):
            home = await make_listing(s, address=f"{n} Assigned Ave")
            s.add(AgentListing(agent_id=agent.id, listing_id=home.id))
        sold = await make_listing(s, address="99 Sold Assigned", status=ListingStatus.SOLD)
        s.add(AgentListing(agent_id=agent.id, listing_id=sold.id))
        await make_listing(s, address="7 Unassigned Rd")
    user = h.fake.user(8202)
    await user.send_command("/listings")
    text = (await user.next_message()).content
    assert "Your homes (20 of 24, newest first)" in text
    assert "99 Sold Assigned" in text and "· sold" in text
    assert "Unassigned" not in text
    assert text.count("•") == 20


async def test_listings_empty_states(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=8203)
    user = h.fake.user(8203)
    await user.send_command("/listings")
    assert "No active homes yet" in (await user.next_message()).content
    async with h.database.unit_of_work() as s:
        await agents_repo.set_service_areas(s, agent.id, [("community", "Nowhere")])
    await user.send_command("/listings")
    assert "No homes in your service areas yet" in (await user.next_message()).content


async def test_notifications_listed_newest_first_and_marked_read(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=8301)
        other = await make_agent(s, telegram_user_id=8302)
        await audit.add_notification(
            s, agent_id=agent.id, notification_type="listing_ingested", message="First <home>"
        )
        await s.flush()
        await audit.add_notification(
            s, agent_id=agent.id, notification_type="post_failed", message="Second & last"
        )
        await audit.add_notification(
            s, agent_id=other.id, notification_type="post_success", message="Not yours"
        )
    user = h.fake.user(8301)
    await user.send_command("/notifications")
    text = (await user.next_message()).content
    assert "Unread notifications" in text
    assert text.index("Second & last") < text.index("First <home>")
    assert "❌" in text and "🏡" in text and "Not yours" not in text
    async with h.database.unit_of_work() as s:
        rows = (await s.execute(select(Notification.agent_id, Notification.is_read))).all()
    assert sorted((a == agent.id, r) for a, r in rows) == [
        (False, False),
        (True, True),
        (True, True),
    ]

    await user.send_command("/notifications")
    assert "all caught up" in (await user.next_message()).content


async def test_notifications_beyond_twenty_wait_for_the_next_call(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=8303)
        for n in range(23):
            await audit.add_notification(
                s,
                agent_id=agent.id,
                notification_type="listing_price_changed",
                message=f"Price change number {n} " + "x" * 300,
            )
            await s.flush()
    user = h.fake.user(8303)
    await user.send_command("/notifications")
    first = await user.next_message()
    texts = [first.content]
    while "more unread" not in texts[-1]:
        texts.append((await user.next_message()).content)
    joined = "\n".join(texts)
    assert all(len(t) <= 4096 for t in texts)
    assert "3 more unread: send /notifications again." in joined
    assert "number 22 " in joined and "number 2 " not in joined
    await user.send_command("/notifications")
    rest = (await user.next_message()).content
    assert "number 2 " in rest and "more unread" not in rest
    async with h.database.unit_of_work() as s:
        unread = (
            await s.execute(select(Notification).where(Notification.is_read.is_(False)))
        ).all()
    assert unread == []


async def test_list_commands_refuse_strangers(harness: BotHarness) -> None:
    h = harness
    stranger = h.fake.user(8999)
    for command in ("/schedule", "/listings", "/notifications"):
        await stranger.send_command(command)
        assert "ask your administrator" in (await stranger.next_message()).content
    async with h.database.unit_of_work() as s:
        assert (await s.execute(select(Agent))).first() is None
        assert (await s.execute(select(Listing))).first() is None
