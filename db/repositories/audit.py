"""The approval audit log and notifications."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApprovalLog, Notification
from db.status import DeliveryStatus


async def list_approval_logs(
    session: AsyncSession, content_piece_id: uuid.UUID
) -> Sequence[ApprovalLog]:
    """The audit trail of a draft, oldest first."""
    result = await session.execute(
        select(ApprovalLog)
        .where(ApprovalLog.content_piece_id == content_piece_id)
        .order_by(ApprovalLog.timestamp, ApprovalLog.id)
    )
    return result.scalars().all()


async def add_notification(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID,
    notification_type: str,
    message: str,
    related_entity_id: uuid.UUID | None = None,
    deliver: bool = True,
) -> Notification:
    """Record a notification; `deliver=False` when the agent turned that type off."""
    row = Notification(
        id=uuid.uuid4(),
        agent_id=agent_id,
        notification_type=notification_type,
        message=message,
        related_entity_id=related_entity_id,
        delivery_status=DeliveryStatus.PENDING if deliver else DeliveryStatus.SKIPPED,
    )
    session.add(row)
    return row


async def list_unread_notifications(
    session: AsyncSession, agent_id: uuid.UUID, *, limit: int = 20
) -> Sequence[Notification]:
    """An agent's unread notifications, newest first."""
    result = await session.execute(
        select(Notification)
        .where(
            Notification.agent_id == agent_id,
            # The seed lets is_read be NULL; a row written without it is unread too.
            or_(Notification.is_read.is_(False), Notification.is_read.is_(None)),
        )
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(limit)
    )
    return result.scalars().all()


async def mark_notifications_read(session: AsyncSession, ids: Sequence[uuid.UUID]) -> int:
    """Mark notifications read; returns how many changed."""
    if not ids:
        return 0
    result = await session.execute(
        update(Notification)
        .where(Notification.id.in_(list(ids)), Notification.is_read.is_not(True))
        .values(is_read=True)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
