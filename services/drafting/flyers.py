"""Flyer text on request: the agent taps the flyer button on a draft."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from db.repositories import drafts as repo
from db.status import ContentPurpose
from services.context import Database
from services.drafting.draft_writing import (
    DraftJob,
    WriterGate,
    listing_facts,
    store_draft,
)
from services.errors import ACCOUNT_DEACTIVATED
from services.generation.listing_facts import DEFAULT_BUILDER_NAME
from services.generation.pipeline import produce
from services.generation.writer import GenerationFailed, Writer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlyerResult:
    """What asking for a flyer did; `message` is one sentence for the agent."""

    ok: bool
    message: str
    piece_id: uuid.UUID | None = None
    already_pending: bool = False


async def request_flyer(
    database: Database,
    writer: Writer,
    *,
    piece_id: uuid.UUID,
    telegram_user_id: int,
    gate: WriterGate | None = None,
    on_accepted: Callable[[], Awaitable[object]] | None = None,
    builder: str = DEFAULT_BUILDER_NAME,
) -> FlyerResult:
    """Write flyer text for the home of this draft, for its agent (only they may ask).

    `on_accepted` runs once the request passed its checks, before the (slower) writing: the
    bot uses it to answer the button at once.
    """
    gate = gate or WriterGate()
    async with database.unit_of_work() as session:
        found = await repo.piece_with_owner(session, piece_id)
        if found is None:
            return FlyerResult(False, "This draft no longer exists.")
        _, agent, listing = found
        if agent.telegram_user_id != telegram_user_id:
            return FlyerResult(False, "Only the agent this draft belongs to can ask for a flyer.")
        if not agent.is_active:
            return FlyerResult(False, ACCOUNT_DEACTIVATED)
        if listing.status not in repo.MARKETABLE:
            return FlyerResult(
                False, "This home is no longer for sale, so I will not write a flyer."
            )
        pending = await repo.pending_flyer(session, agent.id, listing.id)
    if pending is not None:
        return _flyer_pending(pending)
    job = DraftJob.for_agent(
        agent,
        listing.id,
        listing_facts(listing),
        kind="flyer_text",
        purpose=ContentPurpose.FLYER,
        builder=builder,
    )
    if not gate.claim(job.key):
        return FlyerResult(
            False, "I am already writing a flyer for this home; it will arrive shortly.", None, True
        )
    try:
        if on_accepted is not None:
            await on_accepted()
        try:
            async with gate.slot(urgent=True):
                outcome = await produce(writer, job.request())
        except GenerationFailed as exc:
            log.warning(
                "flyer not written", extra={"listing_id": str(listing.id), "error": exc.reason}
            )
            return FlyerResult(
                False, "I could not write the flyer just now; please try again later."
            )
        new_id = await store_draft(database, job, outcome)
    finally:
        gate.release(job.key)
    if new_id is None:
        async with database.unit_of_work() as session:
            pending = await repo.pending_flyer(session, agent.id, listing.id)
        if pending is not None:
            return _flyer_pending(pending)
        return FlyerResult(False, "This home is no longer for sale, so I will not write a flyer.")
    return FlyerResult(True, "Here is the flyer text.", new_id)


def _flyer_pending(piece_id: uuid.UUID) -> FlyerResult:
    return FlyerResult(
        False,
        "A flyer for this home is already waiting for you; dismiss it first to get a new one.",
        piece_id,
        already_pending=True,
    )
