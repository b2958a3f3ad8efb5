"""Homes missing from a completely read sitemap: counted per pass, and on the second
consecutive miss taken `off_market` (their drafts withdrawn, a status change recorded)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from db.repositories import scraping as repo
from db.status import ListingStatus
from services.context import Database
from services.scraping.listing_events import StatusChange
from services.scraping.models import SitemapEntry
from services.scraping.withdrawals import leave_market

log = logging.getLogger(__name__)

OFF_MARKET_AFTER = 2
"""Consecutive passes a home may be missing from the sitemap before it goes off_market."""


async def settle_missing(
    database: Database,
    known: dict[str, repo.ListingState],
    entries: Sequence[SitemapEntry],
    sitemap_ok: bool,
    written: set[str],
    now: datetime,
) -> tuple[list[uuid.UUID], list[StatusChange]]:
    """Count homes missing from the sitemap; reset the count of homes seen again (except the
    `written` source ids, whose saved row already reset it). Returns the homes that went
    off the market and their status changes.

    Nothing is counted from a sitemap that was not read completely, nor from one that
    lists no home at all while we know some (a broken site, not a sold-out builder).
    """
    seen = {entry.source_id for entry in entries}
    reset = [
        st.id
        for sid, st in known.items()
        if sid in seen and st.missed_passes > 0 and sid not in written
    ]
    missing: list[uuid.UUID] = []
    if sitemap_ok and (seen or not known):
        missing = [
            st.id
            for sid, st in known.items()
            if sid not in seen and st.missed_passes < OFF_MARKET_AFTER
        ]
    elif sitemap_ok:
        log.warning("scrape: the sitemap lists no homes; not counting any listing as missing")
    if not reset and not missing:
        return [], []
    old_status = {st.id: st.status for st in known.values()}
    async with database.unit_of_work() as session:
        await repo.reset_missed_passes(session, reset)
        gone = await repo.record_missed_pass(session, missing, off_market_after=OFF_MARKET_AFTER)
        await leave_market(session, dict.fromkeys(gone, ListingStatus.OFF_MARKET.value), now)
        rows = await repo.add_status_changes(
            session,
            [
                (
                    listing_id,
                    old_status.get(listing_id) or ListingStatus.ACTIVE.value,
                    ListingStatus.OFF_MARKET.value,
                )
                for listing_id in gone
            ],
            now,
        )
    return gone, [StatusChange(*row) for row in rows]
