"""Queries behind pushing drafts and notifications to agents' phones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
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


def _draft_due(now: datetime) -> ColumnElement[bool]:
    """No failure recorded for the current version, or one whose back-off is over."""
    return or_(
        ContentPiece.delivery_version.is_(None),
        ContentPiece.delivery_version != ContentPiece.version,
        and_(
            ContentPiece.delivery_error.is_(None),
            or_(ContentPiece.delivery_retry_at.is_(None), ContentPiece.delivery_retry_at <= now),
        ),
    )


async def drafts_to_deliver(
    session: AsyncSession,
    *,
    piece_ids: Sequence[uuid.UUID] | None = None,
    telegram_user_id: int | None = None,
    include_delivered: bool = False,
    now: datetime | None = None,
    claim_until: datetime | None = None,
    limit: int = 500,
) -> list[DraftRow]:
    """Drafts waiting for the agent whose current version is not on their phone yet.

    Versions whose delivery was given up, or is waiting out a back-off at `now`, are left
    out, except with `include_delivered` (the agent asked for their drafts again).
    With `claim_until`, the drafts returned are claimed until then: drafts another process
    claims (or is claiming right now) are left out, so each goes out from one process.
    Release them with `release_draft_claims(…, claim_until)`.
    """
    now = now or utcnow()
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
            ),
            _draft_due(now),
        )
    if piece_ids is not None:
        stmt = stmt.where(ContentPiece.id.in_(list(piece_ids)))
    if telegram_user_id is not None:
        stmt = stmt.where(Agent.telegram_user_id == telegram_user_id)
    if claim_until is not None:
        stmt = stmt.where(_unclaimed(ContentPiece.delivery_claimed_until, now)).with_for_update(
            of=ContentPiece, skip_locked=True
        )
    rows = (await session.execute(stmt)).all()
    if claim_until is not None and rows:
        await session.execute(
            update(ContentPiece)
            .where(ContentPiece.id.in_([p.id for p, _, _ in rows]))
            .values(delivery_claimed_until=claim_until)
            .execution_options(synchronize_session=False)
        )
    return [DraftRow(piece=p, agent=a, listing=lst) for p, a, lst in rows]


def _unclaimed(
    claimed_until: InstrumentedAttribute[datetime | None], now: datetime
) -> ColumnElement[bool]:
    """No process holds the row, or the lease of the one that did ran out (it crashed)."""
    return or_(claimed_until.is_(None), claimed_until <= now)


async def release_draft_claims(
    session: AsyncSession, piece_ids: Sequence[uuid.UUID], claim_until: datetime
) -> None:
    """Give back the drafts this round claimed; a claim another process has taken since
    (after this one's lease ran out) stays."""
    if piece_ids:
        await session.execute(
            update(ContentPiece)
            .where(
                ContentPiece.id.in_(list(piece_ids)),
                ContentPiece.delivery_claimed_until == claim_until,
            )
            .values(delivery_claimed_until=None)
            .execution_options(synchronize_session=False)
        )


async def mark_draft_delivered(
    session: AsyncSession,
    piece_id: uuid.UUID,
    version: int,
    *,
    chat_id: int | None,
    message_id: int | None,
) -> bool:
    """Record where a version is shown; False when a newer version exists already."""
    values: dict[str, object] = {
        "delivered_version": version,
        # Delivered: the progress and failures of its delivery are over.
        "delivery_version": None,
        "delivery_parts": 0,
        "delivery_attempts": 0,
        "delivery_retry_at": None,
        "delivery_error": None,
    }
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


async def _update_delivery(
    session: AsyncSession, piece_id: uuid.UUID, version: int, **values: object
) -> None:
    """Set delivery columns of this version; the counters not given carry over from the
    same version and start from 0 for another one."""
    same = ContentPiece.delivery_version == version
    kept = {
        name: case((same, getattr(ContentPiece, name)), else_=0)
        for name in ("delivery_parts", "delivery_attempts")
        if name not in values
    }
    await session.execute(
        update(ContentPiece)
        .where(ContentPiece.id == piece_id, ContentPiece.version == version)
        .values(delivery_version=version, **kept, **values)
        .execution_options(synchronize_session=False)
    )


async def record_draft_progress(
    session: AsyncSession, piece_id: uuid.UUID, version: int, parts: int
) -> None:
    """`parts` parts of this version are on the agent's phone: a retry starts after them."""
    await _update_delivery(session, piece_id, version, delivery_parts=parts, delivery_error=None)


async def record_draft_failure(
    session: AsyncSession,
    piece_id: uuid.UUID,
    version: int,
    *,
    attempts: int,
    retry_at: datetime | None,
    error: str | None,
) -> None:
    """A failed attempt: try again at `retry_at`, or, with `error`, never again."""
    await _update_delivery(
        session,
        piece_id,
        version,
        delivery_attempts=attempts,
        delivery_retry_at=retry_at,
        delivery_error=error,
    )


async def notifications_to_deliver(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    claim_until: datetime | None = None,
    limit: int = 500,
) -> list[NotificationRow]:
    """Queued notifications (drafts excepted: they travel as draft messages), oldest first;
    those waiting out a back-off at `now` are left out. `claim_until` claims them as in
    `drafts_to_deliver`; release with `release_notification_claims`."""
    now = now or utcnow()
    stmt = (
        select(Notification, Agent, ContentPiece.version)
        .join(Agent, Agent.id == Notification.agent_id)
        .outerjoin(ContentPiece, ContentPiece.id == Notification.related_entity_id)
        .where(
            Notification.delivery_status == DeliveryStatus.PENDING.value,
            Notification.notification_type != NotificationType.CONTENT_AWAITING_APPROVAL.value,
            or_(
                Notification.delivery_retry_at.is_(None),
                Notification.delivery_retry_at <= now,
            ),
            _reachable(),
        )
        .order_by(Notification.created_at, Notification.id)
        .limit(limit)
    )
    if claim_until is not None:
        stmt = stmt.where(_unclaimed(Notification.delivery_claimed_until, now)).with_for_update(
            of=Notification, skip_locked=True
        )
    rows = (await session.execute(stmt)).all()
    if claim_until is not None and rows:
        await session.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for n, _, _ in rows]))
            .values(delivery_claimed_until=claim_until)
        )
    return [NotificationRow(n, a, v) for n, a, v in rows]


async def release_notification_claims(
    session: AsyncSession, notification_ids: Sequence[uuid.UUID], claim_until: datetime
) -> None:
    """Give back the notifications this round claimed (see `release_draft_claims`)."""
    if notification_ids:
        await session.execute(
            update(Notification)
            .where(
                Notification.id.in_(list(notification_ids)),
                Notification.delivery_claimed_until == claim_until,
            )
            .values(delivery_claimed_until=None)
        )


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


async def record_notification_failure(
    session: AsyncSession,
    notification_id: uuid.UUID,
    *,
    attempts: int,
    retry_at: datetime | None,
    error: str | None,
) -> None:
    """A failed attempt: try again at `retry_at`, or, with `error`, mark it failed for good."""
    values: dict[str, object] = {
        "delivery_attempts": attempts,
        "delivery_retry_at": retry_at,
        "delivery_error": error,
    }
    if error is not None:
        values["delivery_status"] = DeliveryStatus.FAILED.value
    await session.execute(
        update(Notification).where(Notification.id == notification_id).values(**values)
    )


async def mark_agent_unreachable(session: AsyncSession, agent_id: uuid.UUID) -> bool:
    """The agent blocked the bot: stop sending until they /start again. False when it was
    marked already."""
    result = await session.execute(
        update(Agent)
        .where(and_(Agent.id == agent_id, Agent.telegram_unreachable_at.is_(None)))
        .values(telegram_unreachable_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
