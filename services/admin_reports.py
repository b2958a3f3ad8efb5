"""What the admins look at: agents, numbers at a glance, failed posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import app_state, reports
from db.repositories import listings as listings_repo
from db.repositories.reports import FailedPostRow

# FailedPostRow is named here so that handlers need not import the db.
__all__ = [
    "AgentSummary",
    "FailedPostRow",
    "Stats",
    "agents_overview",
    "collect_stats",
    "recent_failures",
]

STATS_POST_WINDOW = timedelta(days=7)
FAILED_WINDOW = timedelta(days=14)
MAX_FAILED_SHOWN = 50


@dataclass(frozen=True)
class AgentSummary:
    """One line of /agents."""

    name: str
    email: str
    linked: bool
    invite_pending: bool
    unreachable: bool
    active: bool
    requires_marketing_approval: bool
    service_areas: tuple[tuple[str, str], ...]
    active_accounts: int


@dataclass(frozen=True)
class Stats:
    """Numbers at a glance for /stats."""

    listings_by_status: dict[str, int]
    drafts_by_status: dict[str, int]
    posts_by_status: dict[str, int]
    upcoming_posts: int
    agents_active: int
    agents_linked: int
    agents_unreachable: int
    publishing_paused: bool


async def agents_overview(
    session: AsyncSession, *, now: datetime | None = None
) -> list[AgentSummary]:
    """Every agent, by name, with what an admin needs to know about them."""
    rows = await reports.agents_overview(session, now=now or utcnow())
    return [
        AgentSummary(
            name=row.agent.name,
            email=row.agent.email,
            linked=row.agent.telegram_user_id is not None,
            invite_pending=row.invite_pending,
            unreachable=row.agent.telegram_unreachable_at is not None,
            active=bool(row.agent.is_active),
            requires_marketing_approval=bool(row.agent.requires_marketing_approval),
            service_areas=tuple(
                sorted((area.kind, area.value) for area in row.agent.service_areas)
            ),
            active_accounts=row.active_accounts,
        )
        for row in rows
    ]


async def collect_stats(session: AsyncSession, *, now: datetime | None = None) -> Stats:
    """Listings, drafts and posts by status, agents, and the publishing switch."""
    now = now or utcnow()
    active, linked, unreachable = await reports.agent_link_counts(session)
    paused = await app_state.get_value(session, app_state.PUBLISHING_PAUSED, False)
    return Stats(
        listings_by_status=await listings_repo.count_by_status(session),
        drafts_by_status=await reports.content_count_by_status(session),
        posts_by_status=await reports.posts_count_by_status(
            session, since=now - STATS_POST_WINDOW, until=now
        ),
        upcoming_posts=await reports.count_upcoming_posts(session, after=now),
        agents_active=active,
        agents_linked=linked,
        agents_unreachable=unreachable,
        publishing_paused=bool(paused),
    )


async def recent_failures(
    session: AsyncSession, *, now: datetime | None = None
) -> Sequence[FailedPostRow]:
    """Posts that failed in the last 14 days, newest first (at most 50)."""
    since = (now or utcnow()) - FAILED_WINDOW
    return await reports.failed_posts(session, since=since, limit=MAX_FAILED_SHOWN)
