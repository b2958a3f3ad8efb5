"""Queries behind lifecycle drafts: a home's status changes and the drafts that announce them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ContentPiece, Listing, ListingStatusChange


async def written_events(
    session: AsyncSession, agent_ids: Sequence[uuid.UUID], event_keys: Sequence[str]
) -> set[tuple[uuid.UUID, str]]:
    """Which (agent id, event key) pairs already have their draft."""
    if not agent_ids or not event_keys:
        return set()
    result = await session.execute(
        select(ContentPiece.agent_id, ContentPiece.event_key).where(
            ContentPiece.agent_id.in_(list(set(agent_ids))),
            ContentPiece.event_key.in_(list(set(event_keys))),
        )
    )
    return {(a, k) for a, k in result.all() if k is not None}


async def recent_status_changes(
    session: AsyncSession, *, since: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID, str, str]]:
    """(change id, listing id, old, new) for status changes since `since`, oldest first, that
    are still the listing's current status (a change undone since needs no post)."""
    stmt = (
        select(
            ListingStatusChange.id,
            ListingStatusChange.listing_id,
            ListingStatusChange.old_status,
            ListingStatusChange.new_status,
        )
        .join(Listing, Listing.id == ListingStatusChange.listing_id)
        .where(
            ListingStatusChange.changed_at >= since,
            ListingStatusChange.new_status == Listing.status,
        )
        .order_by(ListingStatusChange.changed_at, ListingStatusChange.id)
        .limit(limit)
    )
    return [(cid, lid, old, new) for cid, lid, old, new in (await session.execute(stmt)).all()]
