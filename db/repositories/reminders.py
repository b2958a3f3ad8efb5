"""Queries behind draft reminders: unanswered drafts on the phone, and the one-time stamp."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, ContentPiece
from db.status import ContentStatus


async def reminder_hours(session: AsyncSession) -> list[float | None]:
    """The distinct reminder settings of active agents (NULL: the default)."""
    result = await session.execute(
        select(Agent.draft_reminder_hours).where(Agent.is_active.is_(True)).distinct()
    )
    return list(result.scalars().all())


async def drafts_to_remind(
    session: AsyncSession,
    *,
    hours: float | None,
    default_hours: float,
    now: datetime,
    limit: int,
) -> list[tuple[ContentPiece, Agent]]:
    """Drafts of agents whose setting is `hours` (None: the default) that wait for the agent,
    are on their phone (this version) and were last touched `hours` ago, with no reminder yet."""
    wait = default_hours if hours is None else hours
    setting = (
        Agent.draft_reminder_hours.is_(None)
        if hours is None
        else Agent.draft_reminder_hours == hours
    )
    stmt = (
        select(ContentPiece, Agent)
        .join(Agent, Agent.id == ContentPiece.agent_id)
        .where(
            setting,
            Agent.is_active.is_(True),
            Agent.telegram_chat_id.is_not(None),
            Agent.telegram_unreachable_at.is_(None),
            ContentPiece.status == ContentStatus.PENDING_APPROVAL_AGENT.value,
            ContentPiece.reminded_at.is_(None),
            ContentPiece.telegram_message_id.is_not(None),
            ContentPiece.delivered_version == ContentPiece.version,
            ContentPiece.updated_at <= now - timedelta(hours=wait),
        )
        .order_by(ContentPiece.updated_at, ContentPiece.id)
        .limit(limit)
    )
    return [(p, a) for p, a in (await session.execute(stmt)).all()]


async def claim_reminder(session: AsyncSession, piece_id: uuid.UUID, now: datetime) -> bool:
    """Stamp the draft as reminded; False when another pass (or process) did it first."""
    result = await session.execute(
        update(ContentPiece)
        .where(ContentPiece.id == piece_id, ContentPiece.reminded_at.is_(None))
        # updated_at is left alone: it is when the agent last saw a change, not us.
        .values(reminded_at=now, updated_at=ContentPiece.updated_at)
        .returning(ContentPiece.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


async def release_reminder(
    session: AsyncSession, piece_id: uuid.UUID, claimed_at: datetime
) -> None:
    """Take back this pass's stamp (a reminder that could not go out now), so that a later
    pass tries again; a stamp another pass has set since is left alone."""
    await session.execute(
        update(ContentPiece)
        .where(ContentPiece.id == piece_id, ContentPiece.reminded_at == claimed_at)
        .values(reminded_at=None, updated_at=ContentPiece.updated_at)
        .execution_options(synchronize_session=False)
    )
