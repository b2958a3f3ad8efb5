"""Drafts for the moments of a home's life after it was listed: `now selling` (upcoming →
active), `just sold` (→ sold) and back on the market (sold or off the market → active).

Each status change the scrape records is one event; each assigned agent gets at most one
draft for it. The draft carries the event's key (`<purpose>:<status change id>`), which is
unique per agent in the database: a re-scrape, a restart or a backfill that meets the same
event again finds the draft and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import drafts as drafts_repo
from db.repositories import lifecycle as repo
from db.status import ContentPurpose, ListingStatus
from services.drafting.draft_writing import DraftJob, listing_facts
from services.scraping.listing_events import StatusChange

_OFF = (ListingStatus.SOLD.value, ListingStatus.OFF_MARKET.value)


def lifecycle_purpose(old: str, new: str) -> ContentPurpose | None:
    """The draft a status change calls for, if any."""
    if new == ListingStatus.ACTIVE and old == ListingStatus.UPCOMING:
        return ContentPurpose.NOW_SELLING
    if new == ListingStatus.ACTIVE and old in _OFF:
        return ContentPurpose.BACK_ON_MARKET
    if new == ListingStatus.SOLD and old != ListingStatus.SOLD:
        return ContentPurpose.JUST_SOLD
    return None


async def lifecycle_jobs(
    session: AsyncSession, events: Sequence[StatusChange], builder: str
) -> tuple[list[DraftJob], int]:
    """One job per (event, assigned agent) with no draft yet; and how many had one."""
    wanted = [
        (change_id, listing_id, purpose)
        for change_id, listing_id, old, new in events
        if (purpose := lifecycle_purpose(old, new)) is not None
    ]
    if not wanted:
        return [], 0
    pairs = await drafts_repo.assignments(
        session, list({lid for _, lid, _ in wanted}), marketable_only=False
    )
    keys = [f"{purpose.value}:{change_id}" for change_id, _, purpose in wanted]
    done = await repo.written_events(session, [a.id for a, _ in pairs], keys)
    jobs: list[DraftJob] = []
    skipped = 0
    for change_id, listing_id, purpose in wanted:
        for agent, listing in pairs:
            if listing.id != listing_id:
                continue
            if (agent.id, f"{purpose.value}:{change_id}") in done:
                skipped += 1
                continue
            jobs.append(
                DraftJob.for_agent(
                    agent,
                    listing_id,
                    listing_facts(listing),
                    kind="social_media_post",
                    purpose=purpose,
                    builder=builder,
                    event=change_id,
                )
            )
    return jobs, skipped
