"""Rewriting drafts from the agent's feedback.

A draft in `pending_ai_revision` is rewritten from its previous version, the feedback and
the listing's facts, and comes back as a new version. A failed rewrite is tried again by
the regenerate job after a back-off; after the last attempt the draft goes back to the
agent unchanged, with a warning saying so. Nothing is remembered in memory: after a
restart, `regenerate()` finds every draft still waiting.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from db.base import utcnow
from db.models import ContentPiece
from db.repositories import drafts as repo
from db.repositories import transitions
from db.repositories.transitions import Request
from db.status import ContentPurpose, ContentType
from services import status_machine as machine
from services.context import Database
from services.drafting.draft_writing import (
    WriterGate,
    agent_profile,
    listing_facts,
    price_before_drop,
    warning_dicts,
    writer_variant,
)
from services.generation.content import ContentKind
from services.generation.listing_facts import DEFAULT_BUILDER_NAME
from services.generation.pipeline import produce
from services.generation.writer import GenerationFailed, Writer, WriteRequest

log = logging.getLogger(__name__)

MAX_REVISION_ATTEMPTS = 3
REVISE_LIMIT = 20
# A failed rewrite is tried again after this times the attempts so far (the job's pace).
RETRY_BACKOFF = timedelta(seconds=30)
REVISION_LEASE = timedelta(minutes=5)
"""A draft being rewritten is held this long by its process (the writer's timeouts and
retries fit well within it); a crashed process's drafts are rewritten by another after."""
GAVE_UP = "I could not rewrite this draft; try different feedback or edit it yourself."


def _due(piece: ContentPiece, now: datetime) -> bool:
    """Whether a draft whose rewrite failed before may be tried again now."""
    if piece.generation_attempts <= 0 or piece.updated_at is None:
        return True
    return piece.updated_at + RETRY_BACKOFF * piece.generation_attempts <= now


async def _revise_one(
    database: Database,
    writer: Writer,
    gate: WriterGate,
    row: repo.PieceToRevise,
    history: Sequence[repo.PricePoint],
    builder: str,
) -> uuid.UUID | None:
    piece = row.piece
    key = ("revise", piece.id)
    if not gate.claim(key):
        return None
    try:
        kind: ContentKind = (
            "flyer_text" if piece.content_type == ContentType.FLYER_TEXT else "social_media_post"
        )
        request = WriteRequest(
            kind=kind,
            purpose="revision",
            facts=listing_facts(row.listing, previous_price=price_before_drop(piece, history)),
            agent=agent_profile(row.agent, builder=builder),
            previous=dict(piece.generated_text),
            feedback=piece.feedback,
            variant_seed=writer_variant(row.agent.id),
            occasion=ContentPurpose(piece.purpose),
        )
        try:
            async with gate.slot(urgent=True):
                outcome = await produce(writer, request)
        except GenerationFailed as exc:
            return await _revision_failed(database, piece, exc)
        async with database.unit_of_work() as session:
            done = await transitions.apply_in(
                session,
                machine.REVISION_DONE,
                Request(
                    piece.id,
                    version=piece.version,
                    values=repo.revision_values(
                        generated_text=outcome.content,
                        warnings=warning_dicts(outcome),
                        writer=outcome.writer,
                        version=piece.version,
                    ),
                ),
            )
            if done is not None:
                await repo.add_revision_version(
                    session,
                    piece_id=piece.id,
                    version=done.version,
                    generated_text=outcome.content,
                    warnings=warning_dicts(outcome),
                    writer=outcome.writer,
                    feedback=piece.feedback,
                    usage_tokens=outcome.usage_tokens,
                )
        if done is None:
            log.info("revision discarded: the draft moved on", extra={"piece_id": str(piece.id)})
            return None
        return piece.id
    finally:
        gate.release(key)


async def _revision_failed(
    database: Database, piece: ContentPiece, exc: GenerationFailed
) -> uuid.UUID | None:
    """Count the failure; after the last attempt hand the draft back to the agent unchanged."""
    attempts = piece.generation_attempts + 1
    give_up = attempts >= MAX_REVISION_ATTEMPTS or not exc.retryable
    log.warning(
        "revision failed",
        extra={
            "piece_id": str(piece.id),
            "attempt": attempts,
            "giving_up": give_up,
            "error": exc.reason,
        },
    )
    async with database.unit_of_work() as session:
        if give_up:
            kept = [w for w in (piece.warnings or []) if isinstance(w, dict)]
            kept = [w for w in kept if w.get("kind") not in ("writer_note", "revision_failed")]
            warnings = [
                {"kind": "revision_failed", "message": GAVE_UP, "phrase": None, "suggestion": None},
                *kept,
            ]
            # The draft shows again as the version it is, with that version's own feedback.
            feedback = await repo.version_feedback(session, piece.id, piece.version)
            values = repo.given_up_values(error=exc.reason, warnings=warnings, feedback=feedback)
            req = Request(piece.id, version=piece.version, values=values)
            gave_back = await transitions.apply_in(session, machine.REVISION_GIVEN_UP, req)
            return piece.id if gave_back is not None else None
        await repo.count_revision_failure(
            session, piece_id=piece.id, version=piece.version, error=exc.reason
        )
    return None


async def regenerate(
    database: Database,
    writer: Writer,
    *,
    piece_ids: Sequence[uuid.UUID] | None = None,
    limit: int = REVISE_LIMIT,
    gate: WriterGate | None = None,
    builder: str = DEFAULT_BUILDER_NAME,
) -> list[uuid.UUID]:
    """Rewrite drafts in `pending_ai_revision` (all of them, or these) from their feedback.

    Returns the drafts now waiting for the agent again: rewritten as a new version, or handed
    back unchanged with a warning after the last failed attempt. Deliver those.
    """
    gate = gate or WriterGate()
    now = utcnow()
    claim_until = now + REVISION_LEASE
    async with database.unit_of_work() as session:
        claimed = await repo.pieces_to_revise(
            session, piece_ids=piece_ids, limit=limit, claim_until=claim_until, now=now
        )
    try:
        return await _revise_rows(
            database, writer, gate, claimed, now, due_only=piece_ids is None, builder=builder
        )
    finally:
        async with database.unit_of_work() as session:
            await repo.release_revision_claims(session, [r.piece.id for r in claimed], claim_until)


async def _revise_rows(
    database: Database,
    writer: Writer,
    gate: WriterGate,
    rows: Sequence[repo.PieceToRevise],
    now: datetime,
    *,
    due_only: bool,
    builder: str,
) -> list[uuid.UUID]:
    async with database.unit_of_work() as session:
        if due_only:  # the job's sweep waits out the back-off; a direct call does not
            rows = [r for r in rows if _due(r.piece, now)]
        histories: dict[uuid.UUID, list[repo.PricePoint]] = {}
        for row in rows:
            if row.piece.purpose == ContentPurpose.PRICE_IMPROVEMENT:
                lid = row.listing.id
                if lid not in histories:
                    histories[lid] = await repo.price_history(session, lid)
    done = await asyncio.gather(
        *(
            _revise_one(database, writer, gate, row, histories.get(row.listing.id, []), builder)
            for row in rows
        )
    )
    return [piece_id for piece_id in done if piece_id is not None]
