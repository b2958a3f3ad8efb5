"""What an agent can look up: their schedule, their homes, their unread notifications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Listing, Notification
from db.repositories import app_state, audit, reports
from db.repositories.reports import PostRow

# The rows the views below hold, named here so that handlers need not import the db.
__all__ = [
    "AgentListings",
    "AgentSchedule",
    "Listing",
    "PostRow",
    "UnreadNotifications",
    "agent_listings",
    "agent_schedule",
    "read_notifications",
]
from services.agent_settings import require_agent

RECENT_POSTS_WINDOW = timedelta(days=30)
MAX_POSTS_SHOWN = 10
MAX_LISTINGS_SHOWN = 20
MAX_NOTIFICATIONS_SHOWN = 20


@dataclass(frozen=True)
class AgentSchedule:
    """Upcoming posts (soonest first) and recent outcomes (newest first)."""

    timezone: str
    upcoming: Sequence[PostRow]
    recent: Sequence[PostRow]
    publishing_paused: bool


@dataclass(frozen=True)
class AgentListings:
    """Up to 20 of the agent's homes, newest first; `total` counts all of them."""

    listings: Sequence[Listing]
    total: int
    # True when the agent has service areas (so these are their assigned homes).
    by_service_area: bool


@dataclass(frozen=True)
class UnreadNotifications:
    """The newest unread notifications, now marked read, and how many remain unread."""

    notifications: Sequence[Notification]
    remaining: int
    timezone: str


async def agent_schedule(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    default_timezone: str,
    now: datetime | None = None,
) -> AgentSchedule:
    """The agent's upcoming and recent posts."""
    agent = await require_agent(session, telegram_user_id)
    now = now or utcnow()
    upcoming = await reports.upcoming_posts(session, agent.id, limit=MAX_POSTS_SHOWN)
    recent = await reports.recent_posts(
        session, agent.id, since=now - RECENT_POSTS_WINDOW, limit=MAX_POSTS_SHOWN
    )
    paused = bool(await app_state.get_value(session, app_state.PUBLISHING_PAUSED, False))
    return AgentSchedule(
        timezone=agent.timezone or default_timezone,
        upcoming=upcoming,
        recent=recent,
        publishing_paused=paused,
    )


async def agent_listings(session: AsyncSession, *, telegram_user_id: int) -> AgentListings:
    """The homes assigned to the agent, or every active home when they have no areas."""
    agent = await require_agent(session, telegram_user_id)
    if await reports.has_service_areas(session, agent.id):
        rows, total = await reports.assigned_listings(session, agent.id, limit=MAX_LISTINGS_SHOWN)
        return AgentListings(listings=rows, total=total, by_service_area=True)
    rows, total = await reports.active_listings(session, limit=MAX_LISTINGS_SHOWN)
    return AgentListings(listings=rows, total=total, by_service_area=False)


async def read_notifications(
    session: AsyncSession, *, telegram_user_id: int, default_timezone: str
) -> UnreadNotifications:
    """The newest unread notifications; the ones returned are marked read."""
    agent = await require_agent(session, telegram_user_id)
    rows = await audit.list_unread_notifications(session, agent.id, limit=MAX_NOTIFICATIONS_SHOWN)
    await audit.mark_notifications_read(session, [row.id for row in rows])
    remaining = 0
    if len(rows) == MAX_NOTIFICATIONS_SHOWN:
        remaining = await reports.count_unread_notifications(session, agent.id)
    return UnreadNotifications(
        notifications=rows, remaining=remaining, timezone=agent.timezone or default_timezone
    )
