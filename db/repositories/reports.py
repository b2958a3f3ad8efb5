"""Read-only queries behind the bot's list commands: schedule, listings, stats, failures."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    Agent,
    AgentInvite,
    AgentListing,
    AgentServiceArea,
    ContentPiece,
    Listing,
    Notification,
    PostSchedule,
    SocialMediaAccount,
)
from db.status import ListingStatus, ScheduleStatus

UPCOMING_STATUSES = (ScheduleStatus.PENDING.value, ScheduleStatus.SENT.value)
FINISHED_STATUSES = (
    ScheduleStatus.SUCCESS.value,
    ScheduleStatus.FAILED.value,
    ScheduleStatus.CANCELLED.value,
)


@dataclass(frozen=True)
class PostRow:
    """One post_schedule row with where it goes and which home it is about."""

    schedule_id: uuid.UUID
    scheduled_at: datetime
    posted_at: datetime | None
    status: str
    platform: str
    account_name: str
    address: str
    city: str
    permalink: str | None
    error_message: str | None


@dataclass(frozen=True)
class FailedPostRow:
    """A failed post with its agent, for the admins' /failed list."""

    post: PostRow
    agent_name: str
    agent_email: str
    updated_at: datetime | None


@dataclass(frozen=True)
class AgentRow:
    """An agent with the counts /agents shows."""

    agent: Agent
    active_accounts: int
    invite_pending: bool


def _post_select() -> Select[*tuple[Any, ...]]:
    return (
        select(
            PostSchedule.id,
            PostSchedule.scheduled_at,
            PostSchedule.posted_at,
            PostSchedule.status,
            SocialMediaAccount.platform,
            func.coalesce(SocialMediaAccount.display_name, SocialMediaAccount.account_id),
            Listing.address,
            Listing.city,
            PostSchedule.permalink,
            PostSchedule.error_message,
        )
        .join(ContentPiece, ContentPiece.id == PostSchedule.content_piece_id)
        .join(SocialMediaAccount, SocialMediaAccount.id == PostSchedule.social_media_account_id)
        .join(Listing, Listing.id == ContentPiece.listing_id)
    )


def _post_row(row: Sequence[Any]) -> PostRow:
    return PostRow(*row)


async def upcoming_posts(
    session: AsyncSession, agent_id: uuid.UUID, *, limit: int = 10
) -> list[PostRow]:
    """The agent's posts still to go out (pending, or being published), soonest first."""
    stmt = (
        _post_select()
        .where(ContentPiece.agent_id == agent_id, PostSchedule.status.in_(UPCOMING_STATUSES))
        .order_by(PostSchedule.scheduled_at, PostSchedule.id)
        .limit(limit)
    )
    return [_post_row(r) for r in (await session.execute(stmt)).all()]


async def recent_posts(
    session: AsyncSession, agent_id: uuid.UUID, *, since: datetime, limit: int = 10
) -> list[PostRow]:
    """The agent's finished posts (published, failed, cancelled) since `since`, newest first."""
    when = func.coalesce(PostSchedule.posted_at, PostSchedule.scheduled_at)
    stmt = (
        _post_select()
        .where(
            ContentPiece.agent_id == agent_id,
            PostSchedule.status.in_(FINISHED_STATUSES),
            when >= since,
        )
        .order_by(when.desc(), PostSchedule.id)
        .limit(limit)
    )
    return [_post_row(r) for r in (await session.execute(stmt)).all()]


async def has_service_areas(session: AsyncSession, agent_id: uuid.UUID) -> bool:
    """Whether the agent has any service area (none means every listing is theirs)."""
    stmt = select(exists().where(AgentServiceArea.agent_id == agent_id))
    return bool((await session.execute(stmt)).scalar_one())


async def assigned_listings(
    session: AsyncSession, agent_id: uuid.UUID, *, limit: int = 20
) -> tuple[Sequence[Listing], int]:
    """Listings assigned to the agent, newest first, and how many there are in all."""
    condition = exists().where(
        AgentListing.listing_id == Listing.id, AgentListing.agent_id == agent_id
    )
    return await _listings_page(session, condition, limit)


async def active_listings(
    session: AsyncSession, *, limit: int = 20
) -> tuple[Sequence[Listing], int]:
    """Active listings, newest first, and how many there are in all."""
    return await _listings_page(session, Listing.status == ListingStatus.ACTIVE.value, limit)


async def _listings_page(
    session: AsyncSession, condition: ColumnElement[bool], limit: int
) -> tuple[Sequence[Listing], int]:
    count = select(func.count()).select_from(Listing).where(condition)
    total = (await session.execute(count)).scalar_one()
    rows = (
        (
            await session.execute(
                select(Listing)
                .where(condition)
                .order_by(Listing.scraped_at.desc(), Listing.id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    return rows, int(total)


async def count_unread_notifications(session: AsyncSession, agent_id: uuid.UUID) -> int:
    """How many notifications the agent has not read."""
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.agent_id == agent_id, Notification.is_read.is_(False))
    )
    return int((await session.execute(stmt)).scalar_one())


async def agents_overview(session: AsyncSession, *, now: datetime) -> list[AgentRow]:
    """Every agent by name with service areas, active account count and open invites."""
    accounts = (
        select(func.count())
        .select_from(SocialMediaAccount)
        .where(
            SocialMediaAccount.agent_id == Agent.id,
            SocialMediaAccount.is_active.is_(True),
        )
        .scalar_subquery()
    )
    invite = exists().where(
        and_(
            AgentInvite.agent_id == Agent.id,
            AgentInvite.used_at.is_(None),
            AgentInvite.expires_at > now,
        )
    )
    stmt = (
        select(Agent, accounts, invite)
        .options(selectinload(Agent.service_areas))
        .order_by(func.lower(Agent.name), Agent.email)
    )
    rows = (await session.execute(stmt)).all()
    return [AgentRow(agent=a, active_accounts=int(n), invite_pending=bool(i)) for a, n, i in rows]


async def content_count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many content pieces are in each status."""
    stmt = select(ContentPiece.status, func.count()).group_by(ContentPiece.status)
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}


async def posts_count_by_status(
    session: AsyncSession, *, since: datetime, until: datetime
) -> dict[str, int]:
    """post_schedule rows due between `since` and `until`, by status."""
    stmt = (
        select(PostSchedule.status, func.count())
        .where(PostSchedule.scheduled_at >= since, PostSchedule.scheduled_at <= until)
        .group_by(PostSchedule.status)
    )
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}


async def count_upcoming_posts(session: AsyncSession, *, after: datetime) -> int:
    """Pending posts due after `after`."""
    stmt = (
        select(func.count())
        .select_from(PostSchedule)
        .where(
            PostSchedule.status == ScheduleStatus.PENDING.value,
            PostSchedule.scheduled_at > after,
        )
    )
    return int((await session.execute(stmt)).scalar_one())


async def agent_link_counts(session: AsyncSession) -> tuple[int, int, int]:
    """(active agents, linked to Telegram, marked unreachable)."""
    stmt = select(
        func.count(),
        func.count(Agent.telegram_user_id),
        func.count(Agent.telegram_unreachable_at),
    ).where(Agent.is_active.is_(True))
    total, linked, unreachable = (await session.execute(stmt)).one()
    return int(total), int(linked), int(unreachable)


async def failed_posts(
    session: AsyncSession, *, since: datetime, limit: int = 50
) -> list[FailedPostRow]:
    """Failed posts whose last change was since `since`, newest first, with their agent."""
    when = func.coalesce(PostSchedule.updated_at, PostSchedule.scheduled_at)
    stmt = (
        _post_select()
        .add_columns(Agent.name, Agent.email, PostSchedule.updated_at)
        .join(Agent, Agent.id == ContentPiece.agent_id)
        .where(PostSchedule.status == ScheduleStatus.FAILED.value, when >= since)
        .order_by(when.desc(), PostSchedule.id)
        .limit(limit)
    )
    out: list[FailedPostRow] = []
    for row in (await session.execute(stmt)).all():
        *post, name, email, updated = row
        out.append(
            FailedPostRow(
                post=_post_row(post), agent_name=name, agent_email=email, updated_at=updated
            )
        )
    return out
