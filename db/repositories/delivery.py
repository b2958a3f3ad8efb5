"""Queries behind pushing drafts and notifications to agents' phones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.base import utcnow
from db.models import Agent, ContentPiece, Listing, Notification
from db.status import ContentStatus, DeliveryStatus, NotificationType


@dataclass(frozen=True)
class DraftRow:
    """A draft to show, with its agent and listing."""

    piece: ContentPiece
    agent: Agent
    listing: Listing


@dataclass(frozen=True)
class NotificationRow:
    """A notification to send, with its agent and, when about a draft, its version."""

    notification: Notification
    agent: Agent
    piece_version: int | None


def _reachable() -> ColumnElement[bool]:
    return and_(
        Agent.telegram_chat_id.is_not(None),
        Agent.telegram_unreachable_at.is_(None),
        Agent.is_active.is_(True),
    )


async def drafts_to_deliver(
    session: AsyncSession,
    *,
    piece_ids: Sequence[uuid.UUID] | None = None,
    telegram_user_id: int | None = None,
    include_delivered: bool = False,
    limit: int = 500,
) -> list[DraftRow]:
    """Drafts waiting for the agent whose current version is not on their phone yet."""
    stmt = (
        select(ContentPiece, Agent, Listing)
        .join(Agent, Agent.id == ContentPiece.agent_id)
        .join(Listing, Listing.id == ContentPiece.listing_id)
        .where(ContentPiece.status == ContentStatus.PENDING_APPROVAL_AGENT.value, _reachable())
        .order_by(ContentPiece.created_at, ContentPiece.id)
        .limit(limit)
    )
    if not include_delivered:
        stmt = stmt.where(
            or_(
                ContentPiece.delivered_version.is_(None),
                ContentPiece.delivered_version != ContentPiece.version,
            )
        )
    if piece_ids is not None:
        stmt = stmt.where(ContentPiece.id.in_(list(piece_ids)))
    if telegram_user_id is not None:
        stmt = stmt.where(Agent.telegram_user_id == telegram_user_id)
    rows = (await session.execute(stmt)).all()
    return [DraftRow(piece=p, agent=a, listing=lst) for p, a, lst in rows]


async def mark_draft_delivered(
    session: AsyncSession,
    piece_id: uuid.UUID,
    version: int,
    *,
    chat_id: int | None,
    message_id: int | None,
) -> bool:
    """Record where a version is shown; False when a newer version exists already."""
    values: dict[str, object] = {"delivered_version": version}
    if message_id is not None:
        values.update(telegram_chat_id=chat_id, telegram_message_id=message_id)
    result = await session.execute(
        update(ContentPiece)
        .where(ContentPiece.id == piece_id, ContentPiece.version == version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if message_id is not None:
        await session.execute(
            update(Notification)
            .where(
                Notification.related_entity_id == piece_id,
                Notification.notification_type == NotificationType.CONTENT_AWAITING_APPROVAL.value,
                Notification.delivery_status == DeliveryStatus.PENDING.value,
            )
            .values(delivery_status=DeliveryStatus.SENT.value, sent_at=utcnow())
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def notifications_to_deliver(
    session: AsyncSession, *, limit: int = 500
) -> list[NotificationRow]:
    """Queued notifications (drafts excepted: they travel as draft messages), oldest first."""
    stmt = (
        select(Notification, Agent, ContentPiece.version)
        .join(Agent, Agent.id == Notification.agent_id)
        .outerjoin(ContentPiece, ContentPiece.id == Notification.related_entity_id)
        .where(
            Notification.delivery_status == DeliveryStatus.PENDING.value,
            Notification.notification_type != NotificationType.CONTENT_AWAITING_APPROVAL.value,
            _reachable(),
        )
        .order_by(Notification.created_at, Notification.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [NotificationRow(n, a, v) for n, a, v in rows]


async def set_notification_status(
    session: AsyncSession, notification_id: uuid.UUID, status: str
) -> None:
    """Mark a notification sent, skipped or failed."""
    values: dict[str, object] = {"delivery_status": status}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = utcnow()
    await session.execute(
        update(Notification).where(Notification.id == notification_id).values(**values)
    )


async def mark_agent_unreachable(session: AsyncSession, agent_id: uuid.UUID) -> None:
    """The agent blocked the bot: stop sending until they /start again."""
    await session.execute(
        update(Agent)
        .where(and_(Agent.id == agent_id, Agent.telegram_unreachable_at.is_(None)))
        .values(telegram_unreachable_at=utcnow())
    )
