"""The dashboard's drafts: lists by status and agent, one draft, counts, its history.

Every query takes `agent_id`: the agent whose drafts the viewer may see, or None for an
admin looking at everyone's. Authorization lives here, in the WHERE clause.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, ApprovalLog, ContentPiece, Listing, PostSchedule, SocialMediaAccount
from db.repositories._keyset import Cursor, before


@dataclass(frozen=True)
class DraftCard:
    """A draft as the dashboard shows it: the post per platform, photos, the home."""

    piece_id: uuid.UUID
    version: int
    status: str
    content_type: str
    purpose: str
    generated_text: dict[str, Any]
    image_urls: list[str]
    warnings: list[Any]
    feedback: str | None
    created_at: datetime | None
    updated_at: datetime
    agent_id: uuid.UUID
    agent_name: str
    listing_id: uuid.UUID
    address: str
    city: str
    state: str
    zip_code: str
    price: Decimal | None
    source_url: str | None


@dataclass(frozen=True)
class PieceLog:
    """One audit row of a draft."""

    at: datetime | None
    action_type: str
    from_status: str | None
    to_status: str | None
    version: int | None
    feedback: str | None


@dataclass(frozen=True)
class PiecePost:
    """One post of a draft on one account."""

    platform: str
    account_name: str
    status: str
    scheduled_at: datetime
    posted_at: datetime | None
    permalink: str | None
    error_message: str | None


_CARD_COLUMNS = (
    ContentPiece.id,
    ContentPiece.version,
    ContentPiece.status,
    ContentPiece.content_type,
    ContentPiece.purpose,
    ContentPiece.generated_text,
    ContentPiece.associated_image_urls,
    ContentPiece.warnings,
    ContentPiece.feedback,
    ContentPiece.created_at,
    ContentPiece.updated_at,
    Agent.id,
    Agent.name,
    Listing.id,
    Listing.address,
    Listing.city,
    Listing.state,
    Listing.zip_code,
    Listing.price,
    Listing.source_url,
)


def _cards() -> Select[Any]:
    return (
        select(*_CARD_COLUMNS)
        .select_from(ContentPiece)
        .join(Agent, Agent.id == ContentPiece.agent_id)
        .join(Listing, Listing.id == ContentPiece.listing_id)
    )


def _card(row: Sequence[Any]) -> DraftCard:
    values = list(row)
    values[5] = dict(values[5] or {})
    values[6] = list(values[6] or [])
    values[7] = list(values[7] or [])
    return DraftCard(*values)


async def list_drafts(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID | None,
    status: str | None,
    after: Cursor | None,
    limit: int,
) -> list[DraftCard]:
    """Drafts, most recently changed first, `limit` after the cursor.

    (updated_at is written with every change and defaults to the insert time; a row
    without one cannot be placed in this order and is left out.)
    """
    stmt = _cards().where(ContentPiece.updated_at.is_not(None))
    if agent_id is not None:
        stmt = stmt.where(ContentPiece.agent_id == agent_id)
    if status is not None:
        stmt = stmt.where(ContentPiece.status == status)
    if after is not None:
        stmt = stmt.where(before(ContentPiece.updated_at, ContentPiece.id, after))
    stmt = stmt.order_by(ContentPiece.updated_at.desc(), ContentPiece.id.desc()).limit(limit)
    return [_card(r) for r in (await session.execute(stmt)).all()]


async def get_draft(
    session: AsyncSession, *, agent_id: uuid.UUID | None, piece_id: uuid.UUID
) -> DraftCard | None:
    """One draft, if the viewer may see it."""
    stmt = _cards().where(ContentPiece.id == piece_id)
    if agent_id is not None:
        stmt = stmt.where(ContentPiece.agent_id == agent_id)
    row = (await session.execute(stmt)).first()
    return None if row is None else _card(row)


async def cards_for_listings(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID | None,
    listing_ids: Sequence[uuid.UUID],
    per_listing: int,
) -> list[DraftCard]:
    """The newest drafts of each of these homes (at most `per_listing` each)."""
    if not listing_ids:
        return []
    rank = (
        func.row_number()
        .over(
            partition_by=ContentPiece.listing_id,
            order_by=(ContentPiece.updated_at.desc(), ContentPiece.id.desc()),
        )
        .label("rank")
    )
    inner = select(ContentPiece.id.label("piece_id"), rank).where(
        ContentPiece.listing_id.in_(list(listing_ids))
    )
    if agent_id is not None:
        inner = inner.where(ContentPiece.agent_id == agent_id)
    ranked = inner.subquery()
    stmt = (
        _cards()
        .join(ranked, ranked.c.piece_id == ContentPiece.id)
        .where(ranked.c.rank <= per_listing)
        .order_by(ContentPiece.updated_at.desc(), ContentPiece.id.desc())
    )
    return [_card(r) for r in (await session.execute(stmt)).all()]


async def piece_owner(session: AsyncSession, piece_id: uuid.UUID) -> uuid.UUID | None:
    """The agent a draft belongs to (None when there is no such draft)."""
    row = (
        await session.execute(select(ContentPiece.agent_id).where(ContentPiece.id == piece_id))
    ).first()
    return None if row is None else row[0]


async def count_by_status(session: AsyncSession, *, agent_id: uuid.UUID | None) -> dict[str, int]:
    """How many drafts are in each status."""
    stmt = select(ContentPiece.status, func.count()).group_by(ContentPiece.status)
    if agent_id is not None:
        stmt = stmt.where(ContentPiece.agent_id == agent_id)
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}


async def piece_logs(
    session: AsyncSession, *, agent_id: uuid.UUID | None, piece_id: uuid.UUID, limit: int = 100
) -> list[PieceLog]:
    """A draft's audit rows, oldest first."""
    stmt = (
        select(
            ApprovalLog.timestamp,
            ApprovalLog.action_type,
            ApprovalLog.from_status,
            ApprovalLog.to_status,
            ApprovalLog.version,
            ApprovalLog.feedback,
        )
        .where(ApprovalLog.content_piece_id == piece_id)
        .order_by(ApprovalLog.timestamp, ApprovalLog.id)
        .limit(limit)
    )
    if agent_id is not None:
        stmt = stmt.where(ApprovalLog.agent_id == agent_id)
    return [PieceLog(*r) for r in (await session.execute(stmt)).all()]


async def piece_posts(
    session: AsyncSession, *, agent_id: uuid.UUID | None, piece_id: uuid.UUID
) -> list[PiecePost]:
    """A draft's posts on each account, soonest first."""
    stmt = (
        select(
            SocialMediaAccount.platform,
            func.coalesce(SocialMediaAccount.display_name, SocialMediaAccount.account_id),
            PostSchedule.status,
            PostSchedule.scheduled_at,
            PostSchedule.posted_at,
            PostSchedule.permalink,
            PostSchedule.error_message,
        )
        .join(SocialMediaAccount, SocialMediaAccount.id == PostSchedule.social_media_account_id)
        .join(ContentPiece, ContentPiece.id == PostSchedule.content_piece_id)
        .where(PostSchedule.content_piece_id == piece_id)
        .order_by(PostSchedule.scheduled_at, PostSchedule.id)
    )
    if agent_id is not None:
        stmt = stmt.where(ContentPiece.agent_id == agent_id)
    return [PiecePost(*r) for r in (await session.execute(stmt)).all()]


async def agent_choices(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """Every agent (id, name), by name: the agent filter of an admin."""
    rows = await session.execute(select(Agent.id, Agent.name).order_by(Agent.name, Agent.id))
    return [(r[0], r[1]) for r in rows.all()]
