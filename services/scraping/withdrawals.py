"""Homes that left the market (sold, or gone from the sitemap): their not-yet-posted drafts
are withdrawn through the status machine, their pending posts cancelled, their agents told.
Homes for sale again: their not-yet-posted `just sold` drafts are withdrawn the same way."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import scraping as repo
from db.repositories import transitions
from db.repositories.transitions import Request
from db.status import ListingStatus, NotificationType
from services import status_machine as machine
from services.notifying.notification_rows import notify
from services.scraping.scrape_notices import left_market_message

log = logging.getLogger(__name__)

WITHDRAWN_SOLD = "Withdrawn automatically: the home is sold"
WITHDRAWN_OFF_MARKET = "Withdrawn automatically: the home is off the market"
WITHDRAWN_BACK_ON_MARKET = "Withdrawn automatically: the home is for sale again"


async def withdraw_drafts(
    session: AsyncSession,
    feedback_by_listing: dict[uuid.UUID, str],
    now: datetime,
    *,
    just_sold: bool = False,
) -> list[repo.WithdrawnPiece]:
    """Reject the not-yet-posted drafts of homes that left the market, each with an audit
    row carrying its listing's sentence, and cancel every pending post of these homes.
    With `just_sold`: only their `just sold` drafts (and those drafts' posts).

    The drafts are read locked first (db.repositories.scraping.withdrawal_candidates), so the
    status each one is withdrawn from is the one its audit row names."""
    listing_ids = list(feedback_by_listing)
    withdrawn: list[repo.WithdrawnPiece] = []
    for w in await repo.withdrawal_candidates(session, listing_ids, just_sold=just_sold):
        t = (
            machine.WITHDRAW_APPROVED
            if w.from_status in machine.WITHDRAW_APPROVED.from_statuses
            else machine.WITHDRAW
        )
        req = Request(
            w.piece_id,
            feedback=feedback_by_listing[w.listing_id],
            audit_from=w.from_status,
            now=now,
        )
        if await transitions.apply_in(session, t, req) is not None:
            withdrawn.append(w)
    if listing_ids and not just_sold:
        await repo.cancel_listing_posts(session, listing_ids, now)
    return withdrawn


async def back_on_market(session: AsyncSession, listing_ids: list[uuid.UUID], now: datetime) -> int:
    """Homes for sale again: withdraw their `just sold` drafts not yet posted (a post that
    has gone out stays; the back-on-the-market draft follows). Returns how many."""
    if not listing_ids:
        return 0
    feedback = dict.fromkeys(listing_ids, WITHDRAWN_BACK_ON_MARKET)
    withdrawn = await withdraw_drafts(session, feedback, now, just_sold=True)
    if withdrawn:
        log.info(
            "just sold drafts withdrawn for homes back on the market",
            extra={"drafts": len(withdrawn), "listings": len(listing_ids)},
        )
    return len(withdrawn)


async def leave_market(
    session: AsyncSession, statuses: dict[uuid.UUID, str], now: datetime
) -> list[uuid.UUID]:
    """Withdraw the drafts of homes that left the market and tell their agents."""
    if not statuses:
        return []
    feedback = {
        listing_id: WITHDRAWN_SOLD if status == ListingStatus.SOLD else WITHDRAWN_OFF_MARKET
        for listing_id, status in statuses.items()
    }
    withdrawn = await withdraw_drafts(session, feedback, now)
    per_agent = Counter((w.agent_id, w.listing_id) for w in withdrawn)
    briefs = await repo.listing_briefs(session, list(statuses))
    for listing_id, agent in await repo.assigned_agents(session, list(statuses)):
        brief = briefs[listing_id]
        await notify(
            session,
            agent,
            NotificationType.LISTING_SOLD,
            left_market_message(
                brief.address,
                brief.city,
                statuses[listing_id],
                per_agent[(agent.id, listing_id)],
            ),
            related_entity_id=listing_id,
        )
    if withdrawn:
        log.info(
            "drafts withdrawn for homes off the market",
            extra={"drafts": len(withdrawn), "listings": len(statuses)},
        )
    return list(statuses)
