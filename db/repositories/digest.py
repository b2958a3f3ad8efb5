"""Queries behind the weekly digest: the week's published posts and the once-a-week stamps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, AppState, ContentPiece, Listing, PostSchedule, SocialMediaAccount
from db.status import ScheduleStatus


@dataclass(frozen=True)
class PublishedPost:
    """One post that went out, with what is needed to ask Graph about it."""

    agent_id: uuid.UUID
    platform: str
    platform_post_id: str
    permalink: str | None
    posted_at: datetime
    address: str
    token_encrypted: str


async def published_between(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    agent_id: uuid.UUID | None = None,
) -> list[PublishedPost]:
    """Posts published in [start, end), oldest first; one agent's or everyone's."""
    stmt = (
        select(
            ContentPiece.agent_id,
            SocialMediaAccount.platform,
            PostSchedule.platform_post_id,
            PostSchedule.permalink,
            PostSchedule.posted_at,
            Listing.address,
            SocialMediaAccount.access_token_encrypted,
        )
        .join(ContentPiece, ContentPiece.id == PostSchedule.content_piece_id)
        .join(Listing, Listing.id == ContentPiece.listing_id)
        .join(SocialMediaAccount, SocialMediaAccount.id == PostSchedule.social_media_account_id)
        .where(
            PostSchedule.status == ScheduleStatus.SUCCESS.value,
            PostSchedule.platform_post_id.is_not(None),
            PostSchedule.posted_at >= start,
            PostSchedule.posted_at < end,
        )
        .order_by(PostSchedule.posted_at, PostSchedule.id)
    )
    if agent_id is not None:
        stmt = stmt.where(ContentPiece.agent_id == agent_id)
    rows = (await session.execute(stmt)).all()
    return [
        PublishedPost(aid, str(platform), str(pid), link, at, address, token)
        for aid, platform, pid, link, at, address, token in rows
        if pid is not None and at is not None
    ]


async def digest_agents(session: AsyncSession) -> Sequence[Agent]:
    """Active agents who can be messaged."""
    result = await session.execute(
        select(Agent).where(
            Agent.is_active.is_(True),
            Agent.telegram_chat_id.is_not(None),
            Agent.telegram_unreachable_at.is_(None),
        )
    )
    return result.scalars().all()


async def claim_agent_digest(session: AsyncSession, agent_id: uuid.UUID, monday: str) -> bool:
    """Stamp this week's digest as the agent's; False when it was stamped already."""
    result = await session.execute(
        update(Agent)
        .where(
            Agent.id == agent_id,
            or_(Agent.weekly_digest_on.is_(None), Agent.weekly_digest_on != monday),
        )
        .values(weekly_digest_on=monday, updated_at=Agent.updated_at)
        .returning(Agent.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


def admin_digest_key(monday: str) -> str:
    """The app-state key that marks the admins' digest of a week as sent."""
    return f"weekly_digest:admins:{monday}"


async def claim_admin_digest(session: AsyncSession, monday: str) -> None:
    """Insert the week's stamp (an IntegrityError at commit when another process has it)."""
    session.add(AppState(key=admin_digest_key(monday), value=True))
    await session.flush()
