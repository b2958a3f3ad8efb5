"""Listings scraped from the builder's site."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AgentListing, Listing
from db.repositories._common import add_unique


async def create_listing(session: AsyncSession, **values: Any) -> Listing:
    """Insert a listing; raises DuplicateError when the source_id exists."""
    listing = Listing(**values)
    await add_unique(session, listing, entity="listing", fields={"source_id": listing.source_id})
    return listing


async def get_listing(session: AsyncSession, listing_id: uuid.UUID) -> Listing | None:
    """The listing with this id, or None."""
    return await session.get(Listing, listing_id)


async def get_listing_by_source_id(session: AsyncSession, source_id: str) -> Listing | None:
    """The listing with this source id, or None."""
    result = await session.execute(select(Listing).where(Listing.source_id == source_id))
    return result.scalar_one_or_none()


async def list_listings(
    session: AsyncSession,
    *,
    status: str | None = None,
    agent_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Listing]:
    """Listings, newest first, optionally by status and by assigned agent."""
    stmt = select(Listing).order_by(Listing.scraped_at.desc(), Listing.id).limit(limit)
    if status is not None:
        stmt = stmt.where(Listing.status == status)
    if agent_id is not None:
        stmt = stmt.join(AgentListing, AgentListing.listing_id == Listing.id).where(
            AgentListing.agent_id == agent_id
        )
    return (await session.execute(stmt.offset(offset))).scalars().all()


async def update_listing(session: AsyncSession, listing_id: uuid.UUID, **values: Any) -> bool:
    """Set columns on a listing; False when it does not exist."""
    result = await session.execute(update(Listing).where(Listing.id == listing_id).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_listing(session: AsyncSession, listing_id: uuid.UUID) -> bool:
    """Delete a listing; False when it does not exist."""
    result = await session.execute(delete(Listing).where(Listing.id == listing_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def known_lastmods(session: AsyncSession) -> dict[str, datetime | None]:
    """source_id → sitemap lastmod for every listing, for incremental scraping."""
    result = await session.execute(select(Listing.source_id, Listing.source_lastmod))
    return {source_id: lastmod for source_id, lastmod in result.all()}


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many listings are in each status."""
    result = await session.execute(select(Listing.status, func.count()).group_by(Listing.status))
    return {str(status): int(n) for status, n in result.all()}
