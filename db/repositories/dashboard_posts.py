"""The dashboard's posts: what is scheduled, what went out, what failed.

`agent_id` limits every query to one agent's posts (None: an admin sees everyone's).
A post belongs to its draft's agent; the same agent owns the account it goes to, and
saying both lets PostgreSQL start from the agent's accounts (index on account, time).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, ContentPiece, Listing, PostSchedule, SocialMediaAccount
from db.repositories._keyset import Cursor, after, before
from db.status import ContentStatus, ScheduleStatus

UPCOMING = (ScheduleStatus.PENDING.value, ScheduleStatus.SENT.value)


@dataclass(frozen=True)
class PostLine:
    """One post of one draft to one account."""

    post_id: uuid.UUID
    scheduled_at: datetime
    posted_at: datetime | None
    status: str
    platform: str
    account_name: str
    permalink: str | None
    error_message: str | None
    piece_id: uuid.UUID
    piece_version: int
    piece_status: str
    agent_id: uuid.UUID
    agent_name: str
    address: str
    city: str


def _lines() -> Select[*tuple[Any, ...]]:
    return (
        select(
            PostSchedule.id,
            PostSchedule.scheduled_at,
            PostSchedule.posted_at,
            PostSchedule.status,
            SocialMediaAccount.platform,
            func.coalesce(SocialMediaAccount.display_name, SocialMediaAccount.account_id),
            PostSchedule.permalink,
            PostSchedule.error_message,
            ContentPiece.id,
            ContentPiece.version,
            ContentPiece.status,
            Agent.id,
            Agent.name,
            Listing.address,
            Listing.city,
        )
        .select_from(PostSchedule)
        .join(SocialMediaAccount, SocialMediaAccount.id == PostSchedule.social_media_account_id)
        .join(ContentPiece, ContentPiece.id == PostSchedule.content_piece_id)
        .join(Agent, Agent.id == ContentPiece.agent_id)
        .join(Listing, Listing.id == ContentPiece.listing_id)
    )


def _scoped(stmt: Select[*tuple[Any, ...]], agent_id: uuid.UUID | None) -> Select[*tuple[Any, ...]]:
    if agent_id is None:
        return stmt
    return stmt.where(ContentPiece.agent_id == agent_id, SocialMediaAccount.agent_id == agent_id)


async def upcoming(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID | None,
    after_cursor: Cursor | None,
    limit: int,
) -> list[PostLine]:
    """Posts still to go out (waiting, or being published now), soonest first.

    One query per status, each an ordered walk of the index on (status, scheduled_at),
    merged here: `status IN (…) ORDER BY scheduled_at` would read and sort every waiting
    post, and a paused publisher lets thousands wait.
    """
    found: list[PostLine] = []
    for status in UPCOMING:
        stmt = _scoped(_lines().where(PostSchedule.status == status), agent_id)
        if after_cursor is not None:
            stmt = stmt.where(after(PostSchedule.scheduled_at, PostSchedule.id, after_cursor))
        stmt = stmt.order_by(PostSchedule.scheduled_at, PostSchedule.id).limit(limit)
        found += [PostLine(*r) for r in (await session.execute(stmt)).all()]
    found.sort(key=lambda line: (line.scheduled_at, line.post_id.hex))
    return found[:limit]


async def finished(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID | None,
    status: str,
    before_cursor: Cursor | None,
    limit: int,
) -> list[PostLine]:
    """Posts in `status` (success or failed), latest slot first."""
    stmt = _scoped(_lines().where(PostSchedule.status == status), agent_id)
    if before_cursor is not None:
        stmt = stmt.where(before(PostSchedule.scheduled_at, PostSchedule.id, before_cursor))
    stmt = stmt.order_by(PostSchedule.scheduled_at.desc(), PostSchedule.id.desc()).limit(limit)
    return [PostLine(*r) for r in (await session.execute(stmt)).all()]


async def count_failed_drafts(session: AsyncSession, *, agent_id: uuid.UUID | None) -> int:
    """Drafts whose posting failed and that nobody retried yet."""
    stmt = (
        select(func.count())
        .select_from(ContentPiece)
        .where(ContentPiece.status == ContentStatus.POSTING_FAILED.value)
    )
    if agent_id is not None:
        stmt = stmt.where(ContentPiece.agent_id == agent_id)
    return int((await session.execute(stmt)).scalar_one())


async def count_inactive_accounts(session: AsyncSession, *, agent_id: uuid.UUID | None) -> int:
    """Connected accounts that stopped working (token expired, disconnected) for agents
    still active."""
    stmt = (
        select(func.count())
        .select_from(SocialMediaAccount)
        .join(Agent, Agent.id == SocialMediaAccount.agent_id)
        .where(SocialMediaAccount.is_active.is_(False), Agent.is_active.is_(True))
    )
    if agent_id is not None:
        stmt = stmt.where(SocialMediaAccount.agent_id == agent_id)
    return int((await session.execute(stmt)).scalar_one())
