"""Report services: stats, failures, agents overview, an agent's schedule and notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import PostSchedule
from db.repositories import agents as agents_repo
from db.repositories import app_state, audit
from db.status import ContentStatus, ListingStatus
from services import admin_reports, agent_lists
from services.onboarding import add_agent
from tests.factories import make_account, make_agent, make_listing, make_piece

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


async def _post(
    session: AsyncSession, piece_id: object, account_id: object, when: datetime, status: str
) -> PostSchedule:
    row = PostSchedule(
        content_piece_id=piece_id,
        social_media_account_id=account_id,
        scheduled_at=when,
        status=status,
        updated_at=when,
    )
    session.add(row)
    await session.flush()
    return row


async def test_collect_stats_windows_and_counts(session: AsyncSession) -> None:
    agent = await make_agent(session)
    await add_agent(session, email="pending@example.com", name="Pending Pat")
    account = await make_account(session, agent)
    home = await make_listing(session)
    await make_listing(session, status=ListingStatus.UPCOMING)
    piece = await make_piece(session, agent, home, status=ContentStatus.APPROVED_FOR_POSTING)
    await make_piece(session, agent, home, status=ContentStatus.REJECTED)
    await _post(session, piece.id, account.id, NOW - timedelta(days=6, hours=23), "success")
    await _post(session, piece.id, account.id, NOW - timedelta(days=7, hours=1), "success")
    await _post(session, piece.id, account.id, NOW - timedelta(hours=1), "cancelled")
    await _post(session, piece.id, account.id, NOW + timedelta(hours=1), "pending")
    await _post(session, piece.id, account.id, NOW + timedelta(days=3), "pending")
    await app_state.set_value(session, app_state.PUBLISHING_PAUSED, True)

    stats = await admin_reports.collect_stats(session, now=NOW)
    assert stats.listings_by_status == {"active": 1, "upcoming": 1}
    assert stats.drafts_by_status == {"approved_for_posting": 1, "rejected": 1}
    assert stats.posts_by_status == {"success": 1, "cancelled": 1}
    assert stats.upcoming_posts == 2
    assert (stats.agents_active, stats.agents_linked, stats.agents_unreachable) == (2, 1, 0)
    assert stats.publishing_paused is True


async def test_recent_failures_only_last_14_days_newest_first(session: AsyncSession) -> None:
    agent = await make_agent(session, name="Chris Doe", email="chris@example.com")
    account = await make_account(session, agent, "instagram", display_name=None)
    piece = await make_piece(session, agent, status=ContentStatus.POSTING_FAILED)
    old = await _post(session, piece.id, account.id, NOW - timedelta(days=15), "failed")
    mid = await _post(session, piece.id, account.id, NOW - timedelta(days=5), "failed")
    new = await _post(session, piece.id, account.id, NOW - timedelta(hours=2), "failed")
    await _post(session, piece.id, account.id, NOW - timedelta(hours=1), "success")
    rows = await admin_reports.recent_failures(session, now=NOW)
    assert [r.post.schedule_id for r in rows] == [new.id, mid.id]
    assert old.id not in {r.post.schedule_id for r in rows}
    first = rows[0]
    assert (first.agent_name, first.agent_email) == ("Chris Doe", "chris@example.com")
    # An account without a display name is shown by its platform id.
    assert first.post.platform == "instagram" and first.post.account_name == account.account_id


async def test_agents_overview(session: AsyncSession) -> None:
    linked = await make_agent(session, name="bea", requires_marketing_approval=True)
    await agents_repo.set_service_areas(session, linked.id, [("city", "Ocala")])
    await make_account(session, linked)
    invited = await add_agent(session, email="zed@example.com", name="Zed")
    rows = await admin_reports.agents_overview(session, now=NOW)
    assert [r.name for r in rows] == ["bea", "Zed"]  # case-insensitive order
    bea, zed = rows
    assert bea.linked and not bea.invite_pending and bea.requires_marketing_approval
    assert bea.service_areas == (("city", "ocala"),) and bea.active_accounts == 1
    assert not zed.linked and zed.invite_pending and zed.email == invited.agent.email
    later = await admin_reports.agents_overview(session, now=NOW + timedelta(days=400))
    assert not later[1].invite_pending  # the invite expired


async def test_agent_schedule_splits_upcoming_and_recent(session: AsyncSession) -> None:
    agent = await make_agent(session, telegram_user_id=62_001, timezone="America/Denver")
    account = await make_account(session, agent)
    piece = await make_piece(session, agent)
    later = await _post(session, piece.id, account.id, NOW + timedelta(days=1), "pending")
    soon = await _post(session, piece.id, account.id, NOW + timedelta(hours=1), "pending")
    sending = await _post(session, piece.id, account.id, NOW - timedelta(minutes=1), "sent")
    done = await _post(session, piece.id, account.id, NOW - timedelta(days=2), "success")
    await _post(session, piece.id, account.id, NOW - timedelta(days=31), "failed")
    result = await agent_lists.agent_schedule(
        session, telegram_user_id=62_001, default_timezone="UTC", now=NOW
    )
    assert result.timezone == "America/Denver" and result.publishing_paused is False
    assert [p.schedule_id for p in result.upcoming] == [sending.id, soon.id, later.id]
    assert [p.schedule_id for p in result.recent] == [done.id]


async def test_read_notifications_marks_only_what_it_returns(session: AsyncSession) -> None:
    agent = await make_agent(session, telegram_user_id=62_002)
    for n in range(22):
        await audit.add_notification(
            session, agent_id=agent.id, notification_type="post_success", message=f"n{n}"
        )
        await session.flush()
    first = await agent_lists.read_notifications(
        session, telegram_user_id=62_002, default_timezone="UTC"
    )
    assert [n.message for n in first.notifications][:2] == ["n21", "n20"]
    assert len(first.notifications) == 20 and first.remaining == 2
    second = await agent_lists.read_notifications(
        session, telegram_user_id=62_002, default_timezone="UTC"
    )
    assert [n.message for n in second.notifications] == ["n1", "n0"]
    assert second.remaining == 0
    third = await agent_lists.read_notifications(
        session, telegram_user_id=62_002, default_timezone="UTC"
    )
    assert list(third.notifications) == [] and third.remaining == 0
