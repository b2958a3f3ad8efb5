"""Queries behind writing drafts from listing events and rewriting them from feedback."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import (
    Agent,
    AgentListing,
    ContentPiece,
    ContentVersion,
    Listing,
    ListingPriceChange,
)
from db.repositories.transitions import INCREMENT
from db.status import ContentPurpose, ContentStatus, ContentType, ListingStatus

# Homes that may get new drafts; sold and withdrawn homes never do.
MARKETABLE: tuple[str, ...] = (ListingStatus.ACTIVE.value, ListingStatus.UPCOMING.value)
# A flyer in one of these is still "pending": asking again says so instead of writing another.
FLYER_PENDING: tuple[str, ...] = (
    ContentStatus.DRAFT.value,
    ContentStatus.PENDING_APPROVAL_AGENT.value,
    ContentStatus.PENDING_AI_REVISION.value,
    ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL.value,
)


@dataclass(frozen=True)
class PricePoint:
    """One price change of a listing."""

    old_price: Decimal | None
    new_price: Decimal | None
    changed_at: datetime


@dataclass(frozen=True)
class PieceToRevise:
    """A draft waiting for a rewrite, with what the writer needs."""

    piece: ContentPiece
    agent: Agent
    listing: Listing


def _marketable_listing() -> Any:
    return Listing.status.in_(MARKETABLE)


async def lock_agent(session: AsyncSession, agent_id: uuid.UUID) -> Agent | None:
    """The agent, locked until commit so that one writer at a time adds their drafts.

    PostgreSQL: a row lock that still lets other transactions reference the agent.
    SQLite has no row locks: a no-op UPDATE takes the database write lock instead.
    """
    stmt = select(Agent).where(Agent.id == agent_id)
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(
            update(Agent).where(Agent.id == agent_id).values(updated_at=Agent.updated_at)
        )
    else:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def assignments(
    session: AsyncSession, listing_ids: Sequence[uuid.UUID], *, marketable_only: bool = True
) -> list[tuple[Agent, Listing]]:
    """(agent, listing) for every active agent assigned to these listings: only marketable
    ones, unless `marketable_only` is off (a lifecycle event: a sold home keeps its agents)."""
    if not listing_ids:
        return []
    stmt = (
        select(Agent, Listing)
        .join(AgentListing, AgentListing.agent_id == Agent.id)
        .join(Listing, Listing.id == AgentListing.listing_id)
        .where(
            AgentListing.listing_id.in_(list(listing_ids)),
            Agent.is_active.is_(True),
            *([_marketable_listing()] if marketable_only else []),
        )
        .order_by(Listing.scraped_at, Listing.id, Agent.id)
    )
    return [(a, lst) for a, lst in (await session.execute(stmt)).all()]


def _has_piece(purpose: str) -> Any:
    return exists().where(
        ContentPiece.agent_id == AgentListing.agent_id,
        ContentPiece.listing_id == AgentListing.listing_id,
        ContentPiece.purpose == purpose,
    )


async def pairs_with_piece(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]], purpose: str
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Which (agent id, listing id) pairs already have a draft of this purpose."""
    if not pairs:
        return set()
    listing_ids = list({lst for _, lst in pairs})
    result = await session.execute(
        select(ContentPiece.agent_id, ContentPiece.listing_id)
        .where(ContentPiece.listing_id.in_(listing_ids), ContentPiece.purpose == purpose)
        .distinct()
    )
    wanted = set(pairs)
    return {(a, lst) for a, lst in result.all() if (a, lst) in wanted}


async def has_piece(
    session: AsyncSession, agent_id: uuid.UUID, listing_id: uuid.UUID, purpose: str
) -> bool:
    """Whether the agent already has a draft of this purpose for the listing."""
    return bool(await pairs_with_piece(session, [(agent_id, listing_id)], purpose))


async def missing_new_listing_drafts(
    session: AsyncSession, *, since: datetime, limit: int
) -> list[tuple[Agent, Listing]]:
    """Marketable listings first seen and assigned to an active agent since `since` that
    have no post for that agent yet."""
    stmt = (
        select(Agent, Listing)
        .join(AgentListing, AgentListing.agent_id == Agent.id)
        .join(Listing, Listing.id == AgentListing.listing_id)
        .where(
            AgentListing.assigned_at >= since,
            Listing.scraped_at >= since,
            Agent.is_active.is_(True),
            _marketable_listing(),
            ~_has_piece(ContentPurpose.NEW_LISTING.value),
        )
        .order_by(AgentListing.assigned_at, Listing.id, Agent.id)
        .limit(limit)
    )
    return [(a, lst) for a, lst in (await session.execute(stmt)).all()]


async def recent_price_drops(
    session: AsyncSession, *, since: datetime, limit: int
) -> list[tuple[uuid.UUID, Decimal, Decimal]]:
    """(listing id, old, new) for marketable listings whose latest change is a recent drop
    to the price they still have."""
    latest = (
        select(
            ListingPriceChange.listing_id,
            func.max(ListingPriceChange.changed_at).label("at"),
        )
        .group_by(ListingPriceChange.listing_id)
        .subquery()
    )
    stmt = (
        select(ListingPriceChange.listing_id, ListingPriceChange.old_price, Listing.price)
        .join(
            latest,
            and_(
                latest.c.listing_id == ListingPriceChange.listing_id,
                latest.c.at == ListingPriceChange.changed_at,
            ),
        )
        .join(Listing, Listing.id == ListingPriceChange.listing_id)
        .where(
            ListingPriceChange.changed_at >= since,
            ListingPriceChange.new_price == Listing.price,
            ListingPriceChange.old_price > ListingPriceChange.new_price,
            _marketable_listing(),
        )
        .order_by(ListingPriceChange.changed_at)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [(lid, old, new) for lid, old, new in rows if old is not None and new is not None]


async def price_history(session: AsyncSession, listing_id: uuid.UUID) -> list[PricePoint]:
    """A listing's price changes, oldest first."""
    result = await session.execute(
        select(
            ListingPriceChange.old_price,
            ListingPriceChange.new_price,
            ListingPriceChange.changed_at,
        )
        .where(ListingPriceChange.listing_id == listing_id)
        .order_by(ListingPriceChange.changed_at, ListingPriceChange.id)
    )
    return [PricePoint(old, new, at) for old, new, at in result.all() if at is not None]


async def piece_times(
    session: AsyncSession, listing_id: uuid.UUID, agent_ids: Sequence[uuid.UUID], purpose: str
) -> list[tuple[uuid.UUID, datetime]]:
    """(agent id, created_at) of the listing's drafts of this purpose for these agents."""
    if not agent_ids:
        return []
    result = await session.execute(
        select(ContentPiece.agent_id, ContentPiece.created_at).where(
            ContentPiece.listing_id == listing_id,
            ContentPiece.agent_id.in_(list(agent_ids)),
            ContentPiece.purpose == purpose,
        )
    )
    return [(a, at or utcnow()) for a, at in result.all()]


async def piece_with_owner(
    session: AsyncSession, piece_id: uuid.UUID
) -> tuple[ContentPiece, Agent, Listing] | None:
    """A draft with its agent and listing."""
    row = (
        await session.execute(
            select(ContentPiece, Agent, Listing)
            .join(Agent, Agent.id == ContentPiece.agent_id)
            .join(Listing, Listing.id == ContentPiece.listing_id)
            .where(ContentPiece.id == piece_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def pending_flyer(
    session: AsyncSession, agent_id: uuid.UUID, listing_id: uuid.UUID
) -> uuid.UUID | None:
    """The agent's flyer for this listing that is still undecided, if any."""
    result = await session.execute(
        select(ContentPiece.id)
        .where(
            ContentPiece.agent_id == agent_id,
            ContentPiece.listing_id == listing_id,
            ContentPiece.content_type == ContentType.FLYER_TEXT.value,
            ContentPiece.status.in_(FLYER_PENDING),
        )
        .limit(1)
    )
    return result.scalar_one_or_none()


async def pieces_to_revise(
    session: AsyncSession,
    *,
    piece_ids: Sequence[uuid.UUID] | None,
    limit: int,
    claim_until: datetime | None = None,
    now: datetime | None = None,
) -> list[PieceToRevise]:
    """Drafts in `pending_ai_revision`, longest waiting first.

    With `claim_until` the drafts returned are claimed until then (each is rewritten by one
    process): drafts another process holds are left out. Release with
    `release_revision_claims`.
    """
    stmt = (
        select(ContentPiece, Agent, Listing)
        .join(Agent, Agent.id == ContentPiece.agent_id)
        .join(Listing, Listing.id == ContentPiece.listing_id)
        .where(ContentPiece.status == ContentStatus.PENDING_AI_REVISION.value)
        .order_by(ContentPiece.updated_at, ContentPiece.id)
        .limit(limit)
    )
    if piece_ids is not None:
        stmt = stmt.where(ContentPiece.id.in_(list(piece_ids)))
    if claim_until is not None:
        now = now or utcnow()
        stmt = stmt.where(
            or_(
                ContentPiece.revision_claimed_until.is_(None),
                ContentPiece.revision_claimed_until <= now,
            )
        ).with_for_update(of=ContentPiece, skip_locked=True)
    rows = [PieceToRevise(p, a, lst) for p, a, lst in (await session.execute(stmt)).all()]
    if claim_until is not None and rows:
        await session.execute(
            update(ContentPiece)
            .where(ContentPiece.id.in_([r.piece.id for r in rows]))
            .values(revision_claimed_until=claim_until)
            .execution_options(synchronize_session=False)
        )
    return rows


async def release_revision_claims(
    session: AsyncSession, piece_ids: Sequence[uuid.UUID], claim_until: datetime
) -> None:
    """Give back drafts claimed for rewriting; one claimed since by another process stays."""
    if piece_ids:
        await session.execute(
            update(ContentPiece)
            .where(
                ContentPiece.id.in_(list(piece_ids)),
                ContentPiece.revision_claimed_until == claim_until,
            )
            .values(revision_claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def revision_values(
    *, generated_text: dict[str, Any], warnings: list[dict[str, Any]], writer: str, version: int
) -> dict[str, Any]:
    """The columns a finished rewrite writes with its status change (the next version)."""
    return {
        "version": version + 1,
        "generated_text": generated_text,
        "warnings": warnings,
        "writer": writer,
        "generation_attempts": 0,
        "last_error": None,
    }


async def add_revision_version(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    version: int,
    generated_text: dict[str, Any],
    warnings: list[dict[str, Any]],
    writer: str,
    feedback: str | None,
    usage_tokens: int,
) -> None:
    """Record the version row of a rewrite, with the feedback that produced it."""
    session.add(
        ContentVersion(
            content_piece_id=piece_id,
            version=version,
            generated_text=generated_text,
            feedback=feedback,
            writer=writer,
            warnings=warnings,
            usage_tokens=usage_tokens,
        )
    )
    await session.flush()


async def version_feedback(session: AsyncSession, piece_id: uuid.UUID, version: int) -> str | None:
    """The feedback that produced this version of a draft (None for a first version)."""
    result = await session.execute(
        select(ContentVersion.feedback).where(
            ContentVersion.content_piece_id == piece_id, ContentVersion.version == version
        )
    )
    return result.scalar_one_or_none()


def given_up_values(
    *, error: str, warnings: list[dict[str, Any]], feedback: str | None
) -> dict[str, Any]:
    """The columns written when the last rewrite failed and the draft goes back as it was.

    Clearing `delivered_version` makes delivery show the draft again with the warning.
    """
    return {
        "generation_attempts": INCREMENT,
        "last_error": error,
        "warnings": warnings,
        "feedback": feedback,
        "delivered_version": None,
    }


async def count_revision_failure(
    session: AsyncSession, *, piece_id: uuid.UUID, version: int, error: str
) -> bool:
    """Count a failed rewrite that will be tried again; False when the draft moved on."""
    result = await session.execute(
        update(ContentPiece)
        .where(
            ContentPiece.id == piece_id,
            ContentPiece.version == version,
            ContentPiece.status == ContentStatus.PENDING_AI_REVISION.value,
        )
        .values(
            generation_attempts=ContentPiece.generation_attempts + 1,
            last_error=error,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
