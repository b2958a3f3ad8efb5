"""Events in, drafts out: new homes and price drops become drafts; feedback becomes versions.

Every draft follows the same path: read the facts in a short transaction, write outside any
transaction (at most `WriterGate.limit` at once, revisions first), then store the draft, its
first version and a `content_awaiting_approval` notification in one transaction, and push it.

Nothing here remembers work in memory: a draft that failed to write, or was lost to a crash
between the scrape's commit and the writer, is found again by `DraftMaker.backfill()` (recent
assignments with no post, recent price drops with no price-improvement post), and a draft left
in `pending_ai_revision` is picked up by `regenerate()`, which the regenerate job runs often.
Duplicates are refused twice: in this process by an in-flight key per draft, and across
processes by re-checking under a row lock on the agent in the writing transaction.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Agent, ContentPiece, Listing
from db.repositories import content as content_repo
from db.repositories import drafts as repo
from db.status import ContentPurpose, ContentStatus, ContentType, NotificationType
from services import delivery
from services.context import Database
from services.generation.content import ContentKind
from services.generation.facts import AgentProfile, ListingFacts, format_price
from services.generation.pipeline import DraftOutcome, produce
from services.generation.writer import GenerationFailed, Purpose, Writer, WriteRequest
from services.notifications import notify
from services.notifier import Notifier

if TYPE_CHECKING:
    from services.ingest import ListingEvents

log = logging.getLogger(__name__)

PriceChange = tuple[uuid.UUID, Decimal | None, Decimal | None]
"""(listing id, old price, new price), as the scrape reports it."""

MAX_IMAGES = 10
MAX_REVISION_ATTEMPTS = 3
BACKFILL_WINDOW = timedelta(days=3)
BACKFILL_LIMIT = 20
REVISE_LIMIT = 20
# A failed rewrite is tried again after this times the attempts so far (the job's pace).
RETRY_BACKOFF = timedelta(seconds=30)
GAVE_UP = "I could not rewrite this draft; try different feedback or edit it yourself."
# The built-in writer varies its wording by this seed: each agent on a home gets their own
# post, and the same agent always gets the same one (reruns are stable).
_VARIANTS = 6
_PURPOSES: dict[ContentPurpose, Purpose] = {
    ContentPurpose.NEW_LISTING: "new_listing",
    ContentPurpose.PRICE_IMPROVEMENT: "price_improvement",
    ContentPurpose.FLYER: "flyer",
}


# --- small building blocks ---------------------------------------------------------------


class WriterGate:
    """At most `limit` drafts being written at once; urgent ones (revisions, flyers an agent
    is waiting for) go ahead of queued background drafts.

    It also knows which drafts are being written, so two passes never write the same one.
    """

    def __init__(self, limit: int = 4) -> None:
        self.limit = max(1, limit)
        self._active = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._in_flight: set[Hashable] = set()

    @asynccontextmanager
    async def slot(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Hold one writing slot for the duration of the block."""
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self._active < self.limit and not self._waiters:
            self._active += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (0 if urgent else 1, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # the slot was handed over just as we were cancelled
            raise

    def _release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # hand the slot over; the count stays
                return
        self._active -= 1

    def claim(self, key: Hashable) -> bool:
        """Mark a draft as being written; False when someone is writing it already."""
        if key in self._in_flight:
            return False
        self._in_flight.add(key)
        return True

    def release(self, key: Hashable) -> None:
        """The draft is written (or failed)."""
        self._in_flight.discard(key)


@dataclass
class DraftRun:
    """What one pass did. Failed drafts are retried by the next `backfill()`."""

    created: list[uuid.UUID] = field(default_factory=list)
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: DraftRun) -> None:
        """Add another pass's counts to this one."""
        self.created += other.created
        self.skipped += other.skipped
        self.failed += other.failed
        self.errors += other.errors


@dataclass(frozen=True)
class FlyerResult:
    """What asking for a flyer did; `message` is one sentence for the agent."""

    ok: bool
    message: str
    piece_id: uuid.UUID | None = None
    already_pending: bool = False


@dataclass(frozen=True)
class _Job:
    """One draft to write for one agent."""

    key: Hashable
    agent_id: uuid.UUID
    listing_id: uuid.UUID
    kind: ContentKind
    purpose: ContentPurpose
    facts: ListingFacts
    agent: AgentProfile
    variant: int
    new_price: Decimal | None = None

    def request(self) -> WriteRequest:
        return WriteRequest(
            kind=self.kind,
            purpose=_PURPOSES[self.purpose],
            facts=self.facts,
            agent=self.agent,
            variant_seed=self.variant,
        )


def listing_facts(listing: Listing, previous_price: Decimal | None = None) -> ListingFacts:
    """The writer's view of a listing row."""
    return ListingFacts(
        source_id=listing.source_id,
        address=listing.address,
        city=listing.city,
        state=listing.state,
        zip_code=listing.zip_code,
        price=listing.price,
        beds=listing.beds,
        baths=listing.baths,
        sqft=listing.sqft,
        garage=listing.garage,
        plan_name=listing.plan_name,
        community=listing.community,
        key_features=tuple(listing.key_features or ()),
        description=listing.description,
        status=listing.status or "active",
        image_urls=tuple(listing.image_urls or ()),
        source_url=listing.source_url,
        previous_price=previous_price,
    )


def agent_profile(agent: Agent) -> AgentProfile:
    """The writer's view of an agent row."""
    return AgentProfile(
        name=agent.name, email=agent.email, company=agent.company, phone=agent.phone
    )


def warning_dicts(outcome: DraftOutcome) -> list[dict[str, Any]]:
    """The warnings stored with a draft; the writer's own note comes first."""
    out: list[dict[str, Any]] = []
    if outcome.note:
        out.append(
            {"kind": "writer_note", "message": outcome.note, "phrase": None, "suggestion": None}
        )
    out += [w.to_dict() for w in outcome.warnings]
    return out


def _variant(agent_id: uuid.UUID) -> int:
    return zlib.crc32(agent_id.bytes) % _VARIANTS


def _price_at(history: Sequence[repo.PricePoint], at: datetime) -> repo.PricePoint | None:
    """The price change in effect at `at` (the latest one made before it)."""
    found = None
    for point in history:
        if point.changed_at <= at:
            found = point
    return found


def _has_draft_at_price(
    history: Sequence[repo.PricePoint], created: Sequence[datetime], price: Decimal
) -> bool:
    """Whether a price-improvement draft was written while the price was `price`.

    A draft older than every recorded change has an unknown price and counts as a match,
    so an event replayed without history never produces a second draft.
    """
    for at in created:
        point = _price_at(history, at)
        if point is None or point.new_price == price:
            return True
    return False


def _previous_price(piece: ContentPiece, history: Sequence[repo.PricePoint]) -> Decimal | None:
    """For a price-improvement draft: the price before the drop it announces."""
    if piece.purpose != ContentPurpose.PRICE_IMPROVEMENT or piece.created_at is None:
        return None
    point = _price_at(history, piece.created_at)
    if point is None or point.old_price is None or point.new_price is None:
        return None
    return point.old_price if point.old_price > point.new_price else None


def _due(piece: ContentPiece, now: datetime) -> bool:
    """Whether a draft whose rewrite failed before may be tried again now."""
    if piece.generation_attempts <= 0 or piece.updated_at is None:
        return True
    return piece.updated_at + RETRY_BACKOFF * piece.generation_attempts <= now


def _place(listing: Listing) -> str:
    return f"{listing.address}, {listing.city}"


def _awaiting_message(job: _Job, listing: Listing) -> str:
    if job.purpose == ContentPurpose.PRICE_IMPROVEMENT and job.facts.previous_price is not None:
        now = format_price(listing.price) if listing.price is not None else "a new price"
        was = format_price(job.facts.previous_price)
        return f"Price improvement post ready for {_place(listing)}: now {now} (was {was})."
    if job.purpose == ContentPurpose.FLYER:
        return f"Flyer text ready for {_place(listing)}."
    return f"New listing post ready for {_place(listing)}: approve, revise or reject it."


# --- writing new drafts ------------------------------------------------------------------


def _new_listing_job(agent: Agent, listing: Listing) -> _Job:
    return _Job(
        key=("new", agent.id, listing.id),
        agent_id=agent.id,
        listing_id=listing.id,
        kind="social_media_post",
        purpose=ContentPurpose.NEW_LISTING,
        facts=listing_facts(listing),
        agent=agent_profile(agent),
        variant=_variant(agent.id),
    )


async def _new_listing_jobs(
    session: AsyncSession, pairs: Sequence[tuple[Agent, Listing]]
) -> tuple[list[_Job], int]:
    ids = [(a.id, lst.id) for a, lst in pairs]
    done = await repo.pairs_with_piece(session, ids, ContentPurpose.NEW_LISTING.value)
    jobs = [_new_listing_job(a, lst) for a, lst in pairs if (a.id, lst.id) not in done]
    return jobs, len(pairs) - len(jobs)


async def _price_jobs(
    session: AsyncSession, drops: Sequence[tuple[uuid.UUID, Decimal, Decimal]]
) -> tuple[list[_Job], int]:
    jobs: list[_Job] = []
    skipped = 0
    for listing_id, old, new in drops:
        pairs = await repo.assignments(session, [listing_id])
        if not pairs:
            continue
        listing = pairs[0][1]
        if listing.price is None or listing.price != new:
            skipped += len(pairs)  # the price moved again; that change brings its own event
            continue
        history = await repo.price_history(session, listing_id)
        times = await repo.piece_times(
            session, listing_id, [a.id for a, _ in pairs], ContentPurpose.PRICE_IMPROVEMENT.value
        )
        facts = listing_facts(listing, previous_price=old)
        for agent, _ in pairs:
            mine = [at for a, at in times if a == agent.id]
            if _has_draft_at_price(history, mine, new):
                skipped += 1
                continue
            jobs.append(
                _Job(
                    key=("price", agent.id, listing_id, new.normalize()),
                    agent_id=agent.id,
                    listing_id=listing_id,
                    kind="social_media_post",
                    purpose=ContentPurpose.PRICE_IMPROVEMENT,
                    facts=facts,
                    agent=agent_profile(agent),
                    variant=_variant(agent.id),
                    new_price=new,
                )
            )
    return jobs, skipped


async def _already_written(session: AsyncSession, job: _Job) -> uuid.UUID | bool:
    """Re-checked under the agent's lock just before storing a draft."""
    if job.purpose == ContentPurpose.NEW_LISTING:
        return await repo.has_piece(session, job.agent_id, job.listing_id, job.purpose.value)
    if job.purpose == ContentPurpose.FLYER:
        found = await repo.pending_flyer(session, job.agent_id, job.listing_id)
        return found if found is not None else False
    assert job.new_price is not None
    history = await repo.price_history(session, job.listing_id)
    times = await repo.piece_times(session, job.listing_id, [job.agent_id], job.purpose.value)
    return _has_draft_at_price(history, [at for _, at in times], job.new_price)


async def _store(database: Database, job: _Job, outcome: DraftOutcome) -> uuid.UUID | None:
    """Draft + first version + notification in one transaction; None when it is not needed."""
    async with database.unit_of_work() as session:
        agent = await repo.lock_agent(session, job.agent_id)
        listing = await session.get(Listing, job.listing_id)
        if agent is None or listing is None or not agent.is_active:
            return None
        if listing.status not in repo.MARKETABLE or await _already_written(session, job):
            return None
        piece = await content_repo.create_content_piece(
            session,
            listing_id=job.listing_id,
            agent_id=job.agent_id,
            content_type=job.kind,
            generated_text=outcome.content,
            status=ContentStatus.PENDING_APPROVAL_AGENT.value,
            purpose=job.purpose.value,
            associated_image_urls=list(listing.image_urls or [])[:MAX_IMAGES],
            warnings=warning_dicts(outcome),
            writer=outcome.writer,
            usage_tokens=outcome.usage_tokens,
        )
        await notify(
            session,
            agent,
            NotificationType.CONTENT_AWAITING_APPROVAL.value,
            _awaiting_message(job, listing),
            related_entity_id=piece.id,
        )
        return piece.id


async def _write_all(
    database: Database,
    writer: Writer,
    gate: WriterGate,
    jobs: Sequence[_Job],
    on_created: Callable[[uuid.UUID], None] | None = None,
) -> DraftRun:
    """Write every job (bounded by the gate); a failure is counted, logged and left for the
    next backfill. A failure no retry can fix (a bad API key) stops the rest of the pass."""
    run = DraftRun()
    stop = asyncio.Event()

    async def one(job: _Job) -> None:
        if not gate.claim(job.key):
            run.skipped += 1
            return
        try:
            async with gate.slot():
                if stop.is_set():
                    run.failed += 1
                    return
                outcome = await produce(writer, job.request())
            piece_id = await _store(database, job, outcome)
        except GenerationFailed as exc:
            run.failed += 1
            run.errors.append(exc.reason)
            log.warning(
                "draft not written; it will be retried",
                extra={
                    "listing_id": str(job.listing_id),
                    "agent_id": str(job.agent_id),
                    "purpose": job.purpose.value,
                    "error": exc.reason,
                },
            )
            if not exc.retryable:
                stop.set()
            return
        finally:
            gate.release(job.key)
        if piece_id is None:
            run.skipped += 1
            return
        run.created.append(piece_id)
        if on_created is not None:
            on_created(piece_id)

    await asyncio.gather(*(one(job) for job in jobs))
    return run


# --- revisions ---------------------------------------------------------------------------


async def _revise_one(
    database: Database,
    writer: Writer,
    gate: WriterGate,
    row: repo.PieceToRevise,
    history: Sequence[repo.PricePoint],
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
            facts=listing_facts(row.listing, previous_price=_previous_price(piece, history)),
            agent=agent_profile(row.agent),
            previous=dict(piece.generated_text),
            feedback=piece.feedback,
            variant_seed=_variant(row.agent.id),
        )
        try:
            async with gate.slot(urgent=True):
                outcome = await produce(writer, request)
        except GenerationFailed as exc:
            return await _revision_failed(database, piece, exc)
        async with database.unit_of_work() as session:
            done = await repo.finish_revision(
                session,
                piece_id=piece.id,
                version=piece.version,
                generated_text=outcome.content,
                warnings=warning_dicts(outcome),
                writer=outcome.writer,
                feedback=piece.feedback,
                usage_tokens=outcome.usage_tokens,
            )
        if not done:
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
        warnings: list[dict[str, Any]] | None = None
        feedback: str | None = None
        if give_up:
            kept = [w for w in (piece.warnings or []) if isinstance(w, dict)]
            kept = [w for w in kept if w.get("kind") not in ("writer_note", "revision_failed")]
            warnings = [
                {"kind": "revision_failed", "message": GAVE_UP, "phrase": None, "suggestion": None},
                *kept,
            ]
            # The draft shows again as the version it is, with that version's own feedback.
            feedback = await repo.version_feedback(session, piece.id, piece.version)
        recorded = await repo.record_revision_failure(
            session,
            piece_id=piece.id,
            version=piece.version,
            error=exc.reason,
            give_up=give_up,
            warnings=warnings,
            feedback=feedback,
        )
    return piece.id if give_up and recorded is not None else None


async def regenerate(
    database: Database,
    writer: Writer,
    *,
    piece_ids: Sequence[uuid.UUID] | None = None,
    limit: int = REVISE_LIMIT,
    gate: WriterGate | None = None,
) -> list[uuid.UUID]:
    """Rewrite drafts in `pending_ai_revision` (all of them, or these) from their feedback.

    Returns the drafts now waiting for the agent again: rewritten as a new version, or handed
    back unchanged with a warning after the last failed attempt. Deliver those.
    """
    gate = gate or WriterGate()
    now = utcnow()
    async with database.unit_of_work() as session:
        rows = await repo.pieces_to_revise(session, piece_ids=piece_ids, limit=limit)
        if piece_ids is None:  # the job's sweep waits out the back-off; a direct call does not
            rows = [r for r in rows if _due(r.piece, now)]
        histories: dict[uuid.UUID, list[repo.PricePoint]] = {}
        for row in rows:
            if row.piece.purpose == ContentPurpose.PRICE_IMPROVEMENT:
                lid = row.listing.id
                if lid not in histories:
                    histories[lid] = await repo.price_history(session, lid)
    done = await asyncio.gather(
        *(
            _revise_one(database, writer, gate, row, histories.get(row.listing.id, []))
            for row in rows
        )
    )
    return [piece_id for piece_id in done if piece_id is not None]


# --- flyers ------------------------------------------------------------------------------


async def request_flyer(
    database: Database,
    writer: Writer,
    *,
    piece_id: uuid.UUID,
    telegram_user_id: int,
    gate: WriterGate | None = None,
    on_accepted: Callable[[], Awaitable[object]] | None = None,
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
        if listing.status not in repo.MARKETABLE:
            return FlyerResult(
                False, "This home is no longer for sale, so I will not write a flyer."
            )
        pending = await repo.pending_flyer(session, agent.id, listing.id)
    if pending is not None:
        return _flyer_pending(pending)
    job = _Job(
        key=("flyer", agent.id, listing.id),
        agent_id=agent.id,
        listing_id=listing.id,
        kind="flyer_text",
        purpose=ContentPurpose.FLYER,
        facts=listing_facts(listing),
        agent=agent_profile(agent),
        variant=_variant(agent.id),
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
        new_id = await _store(database, job, outcome)
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
        "A flyer for this home is already waiting for you; approve or reject it first.",
        piece_id,
        already_pending=True,
    )


# --- the service the bot holds -----------------------------------------------------------


class _Courier:
    """Pushes new drafts as they are stored, coalescing bursts into one delivery round
    (delivery keeps each agent's messages in order)."""

    def __init__(self, database: Database, notifier: Notifier, default_timezone: str) -> None:
        self._database = database
        self._notifier = notifier
        self._timezone = default_timezone
        self._pending: list[uuid.UUID] = []
        self._task: asyncio.Task[None] | None = None

    def push(self, piece_id: uuid.UUID) -> None:
        self._pending.append(piece_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            await self.deliver(batch)

    async def deliver(self, piece_ids: Sequence[uuid.UUID]) -> None:
        try:
            await delivery.deliver_drafts(
                self._database,
                self._notifier,
                default_timezone=self._timezone,
                piece_ids=list(piece_ids),
            )
        except Exception:
            # The deliver job sends whatever is still undelivered on its next round.
            log.exception("immediate draft delivery failed")

    async def flush(self) -> None:
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


class DraftMaker:
    """Turns listing events into drafts (the scrape's `ListingEvents`), rewrites drafts from
    feedback and writes flyers on request. With a notifier it pushes drafts at once."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        *,
        notifier: Notifier | None = None,
        default_timezone: str = "UTC",
        gate: WriterGate | None = None,
        backfill_window: timedelta = BACKFILL_WINDOW,
    ) -> None:
        self.database = database
        self.writer = writer
        self.gate = gate or WriterGate()
        self.backfill_window = backfill_window
        self.failures = 0
        self._courier = (
            _Courier(database, notifier, default_timezone) if notifier is not None else None
        )

    async def _write(self, jobs: Sequence[_Job]) -> DraftRun:
        push = self._courier.push if self._courier is not None else None
        run = await _write_all(self.database, self.writer, self.gate, jobs, push)
        self.failures += run.failed
        if self._courier is not None:
            await self._courier.flush()
        return run

    async def on_new(self, listing_ids: Sequence[uuid.UUID]) -> None:
        """`ListingEvents`: new homes were saved and assigned."""
        await self.new_listings(listing_ids)

    async def on_price_change(self, changes: Sequence[PriceChange]) -> None:
        """`ListingEvents`: homes on the market changed price."""
        await self.price_drops(changes)

    async def on_sold(self, listing_ids: Sequence[uuid.UUID]) -> None:
        """`ListingEvents`: nothing to write; the scrape withdraws the pending drafts itself."""

    async def new_listings(self, listing_ids: Sequence[uuid.UUID]) -> DraftRun:
        """A `social_media_post` for every agent assigned to each new listing."""
        async with self.database.unit_of_work() as session:
            pairs = await repo.assignments(session, listing_ids)
            jobs, skipped = await _new_listing_jobs(session, pairs)
        run = await self._write(jobs)
        run.skipped += skipped
        return run

    async def price_drops(self, changes: Sequence[PriceChange]) -> DraftRun:
        """A price-improvement post per assigned agent for each drop (rises get none)."""
        drops = [
            (lid, old, new)
            for lid, old, new in changes
            if old is not None and new is not None and new < old
        ]
        if not drops:
            return DraftRun()
        async with self.database.unit_of_work() as session:
            jobs, skipped = await _price_jobs(session, drops)
        run = await self._write(jobs)
        run.skipped += skipped
        return run

    async def backfill(
        self, *, limit: int = BACKFILL_LIMIT, now: datetime | None = None
    ) -> DraftRun:
        """Write drafts that should exist but do not: homes first seen and assigned recently
        with no post (a failed writer, or a crash after the scrape committed) and recent price
        drops with no price-improvement post. Bounded by `limit` per kind per run.

        Homes seen before the window get no post even when newly assigned (an agent joining
        or changing areas is not news about the home)."""
        since = (now or utcnow()) - self.backfill_window
        async with self.database.unit_of_work() as session:
            missing = await repo.missing_new_listing_drafts(session, since=since, limit=limit)
            new_jobs, _ = await _new_listing_jobs(session, missing)
            drops = await repo.recent_price_drops(session, since=since, limit=limit)
            price_jobs, _ = await _price_jobs(session, drops)
        run = await self._write([*new_jobs, *price_jobs])
        if run.created or run.failed:
            log.info(
                "draft backfill",
                extra={"created": len(run.created), "failed": run.failed},
            )
        return run

    async def regenerate(
        self, *, piece_ids: Sequence[uuid.UUID] | None = None, limit: int = REVISE_LIMIT
    ) -> list[uuid.UUID]:
        """`regenerate()` sharing this maker's writing slots; delivers the results."""
        ids = await regenerate(
            self.database, self.writer, piece_ids=piece_ids, limit=limit, gate=self.gate
        )
        if ids and self._courier is not None:
            await self._courier.deliver(ids)
        return ids

    async def rewrite(self, piece_id: uuid.UUID) -> None:
        """Right after feedback: rewrite this draft and push the new version."""
        await self.regenerate(piece_ids=[piece_id])

    async def request_flyer(
        self,
        *,
        piece_id: uuid.UUID,
        telegram_user_id: int,
        on_accepted: Callable[[], Awaitable[object]] | None = None,
    ) -> FlyerResult:
        """`request_flyer()` sharing this maker's writing slots; delivers the flyer."""
        result = await request_flyer(
            self.database,
            self.writer,
            piece_id=piece_id,
            telegram_user_id=telegram_user_id,
            gate=self.gate,
            on_accepted=on_accepted,
        )
        if result.ok and result.piece_id is not None and self._courier is not None:
            await self._courier.deliver([result.piece_id])
        return result


if TYPE_CHECKING:

    def _is_listing_events(maker: DraftMaker) -> ListingEvents:
        return maker  # mypy proves DraftMaker satisfies the scrape's hook protocol
