"""The dashboard's homes: a page of listings, their price histories, the latest change.

`agent_id` limits the listings to those assigned to one agent (None: an admin sees all).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AgentListing, Listing, ListingPriceChange
from db.repositories._keyset import Cursor, before


@dataclass(frozen=True)
class ListingLine:
    """A home as the listings page shows it."""

    listing_id: uuid.UUID
    address: str
    city: str
    state: str
    zip_code: str
    status: str | None
    price: Decimal | None
    beds: int | None
    baths: Decimal | None
    sqft: int | None
    community: str | None
    plan_name: str | None
    source_url: str | None
    image_url: str | None
    changed_at: datetime
    first_seen: datetime | None


@dataclass(frozen=True)
class PriceHistoryEntry:
    """One dated row of a home's price history (the dashboard's listing page)."""

    at: datetime
    old_price: Decimal | None
    new_price: Decimal | None


async def list_listings(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID | None,
    status: str | None,
    search: str | None,
    after: Cursor | None,
    limit: int,
) -> list[ListingLine]:
    """Homes, most recently changed first, `limit` after the cursor (index on
    last_updated_at, id; the column defaults to the insert time, and a row without it has
    no place in this order and is left out)."""
    changed = Listing.last_updated_at
    stmt = select(
        Listing.id,
        Listing.address,
        Listing.city,
        Listing.state,
        Listing.zip_code,
        Listing.status,
        Listing.price,
        Listing.beds,
        Listing.baths,
        Listing.sqft,
        Listing.community,
        Listing.plan_name,
        Listing.source_url,
        Listing.image_urls,
        changed,
        Listing.scraped_at,
    ).where(changed.is_not(None))
    if agent_id is not None:
        stmt = stmt.where(
            exists().where(AgentListing.listing_id == Listing.id, AgentListing.agent_id == agent_id)
        )
    if status is not None:
        stmt = stmt.where(Listing.status == status)
    if search:
        pattern = (
            "%" + search.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        )
        stmt = stmt.where(
            or_(
                func.lower(Listing.address).like(pattern, escape="\\"),
                func.lower(Listing.city).like(pattern, escape="\\"),
                func.lower(func.coalesce(Listing.community, "")).like(pattern, escape="\\"),
            )
        )
    if after is not None:
        stmt = stmt.where(before(changed, Listing.id, after))
    stmt = stmt.order_by(changed.desc(), Listing.id.desc()).limit(limit)
    lines = []
    for row in (await session.execute(stmt)).all():
        values = list(row)
        images = values[13] or []
        values[13] = images[0] if images else None
        lines.append(ListingLine(*values))
    return lines


async def price_histories(
    session: AsyncSession, listing_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PriceHistoryEntry]]:
    """Each home's price changes, oldest first."""
    if not listing_ids:
        return {}
    rows = await session.execute(
        select(
            ListingPriceChange.listing_id,
            ListingPriceChange.changed_at,
            ListingPriceChange.old_price,
            ListingPriceChange.new_price,
        )
        .where(
            ListingPriceChange.listing_id.in_(list(listing_ids)),
            ListingPriceChange.changed_at.is_not(None),
        )
        .order_by(ListingPriceChange.changed_at, ListingPriceChange.id)
    )
    found: dict[uuid.UUID, list[PriceHistoryEntry]] = defaultdict(list)
    for listing_id, at, old, new in rows.all():
        if at is not None:
            found[listing_id].append(PriceHistoryEntry(at, old, new))
    return dict(found)


async def latest_change(session: AsyncSession, *, agent_id: uuid.UUID | None) -> datetime | None:
    """When the scrape last found a home new or changed (among the viewer's homes)."""
    stmt = select(func.max(Listing.last_updated_at))
    if agent_id is not None:
        stmt = stmt.where(
            exists().where(AgentListing.listing_id == Listing.id, AgentListing.agent_id == agent_id)
        )
    value = (await session.execute(stmt)).scalar_one_or_none()
    return value if isinstance(value, datetime) or value is None else None


async def count_by_status(session: AsyncSession, *, agent_id: uuid.UUID | None) -> dict[str, int]:
    """How many of the viewer's homes are in each status."""
    stmt = select(Listing.status, func.count()).group_by(Listing.status)
    if agent_id is not None:
        stmt = stmt.where(
            exists().where(AgentListing.listing_id == Listing.id, AgentListing.agent_id == agent_id)
        )
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}
