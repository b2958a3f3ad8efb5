"""Which agents a home belongs to: a new home goes to every active agent whose areas match
(each told), and an agent joining or changing areas gets the matching homes on the market."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import scraping as repo
from db.status import ListingStatus, NotificationType
from services.notifying.notification_rows import notify
from services.scraping.scrape_notices import new_home_message


def matches_areas(areas: repo.AgentAreas, values: dict[str, Any]) -> bool:
    """Whether a home lies in the agent's areas (no areas: every home does)."""
    if not areas.cities and not areas.communities:
        return True
    city = str(values.get("city") or "").strip().lower()
    community = str(values.get("community") or "").strip().lower()
    return (bool(city) and city in areas.cities) or (
        bool(community) and community in areas.communities
    )


async def assign_new(
    session: AsyncSession, new: Sequence[tuple[uuid.UUID, dict[str, Any]]], now: datetime
) -> list[uuid.UUID]:
    """Assign new homes to matching agents and tell them; returns the on-market ids."""
    if not new:
        return []
    agents = await repo.active_agents_with_areas(session)
    pairs: list[tuple[uuid.UUID, uuid.UUID]] = []
    on_market: list[uuid.UUID] = []
    for listing_id, values in new:
        announce = values["status"] != ListingStatus.SOLD
        if announce:
            on_market.append(listing_id)
        for areas in agents:
            if not matches_areas(areas, values):
                continue
            pairs.append((areas.agent.id, listing_id))
            if announce:
                await notify(
                    session,
                    areas.agent,
                    NotificationType.LISTING_INGESTED,
                    new_home_message(values),
                    related_entity_id=listing_id,
                )
    await repo.assign_listings(session, pairs, now)
    return on_market


async def assign_existing_listings(session: AsyncSession, agent_id: uuid.UUID) -> int:
    """Give an agent the homes on the market that match their areas; idempotent.

    For onboarding or a change of areas: new homes are assigned by the pass itself.
    Returns how many listings were newly assigned.
    """
    found = await repo.active_agents_with_areas(session, agent_id)
    if not found:
        return 0
    areas = found[0]
    pairs = [
        (agent_id, listing_id)
        for listing_id, city, community in await repo.on_market_places(session)
        if matches_areas(areas, {"city": city, "community": community})
    ]
    return await repo.assign_listings(session, pairs, utcnow())
