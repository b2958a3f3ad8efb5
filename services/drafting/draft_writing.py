"""The one path every draft takes: facts in, written through the gate, stored and announced.

A draft's facts are read in a short transaction; the writer runs outside any transaction
(at most `WriterGate.limit` at once, urgent ones first); then the draft, its first version
and its `content_awaiting_approval` notification are stored in one transaction, re-checked
under a row lock on the agent so that two passes or two processes never store it twice.
New-home and price-drop drafts (`listing_drafts`), rewrites (`revisions`) and flyers
(`flyers`), all in this package, go this way.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, ContentPiece, Listing
from db.repositories import content as content_repo
from db.repositories import drafts as repo
from db.repositories import lifecycle as lifecycle_repo
from db.status import ContentPurpose, ContentStatus, ListingStatus, NotificationType
from services.context import Database
from services.generation.content import ContentKind
from services.generation.listing_facts import (
    DEFAULT_BUILDER_NAME,
    AgentProfile,
    ListingFacts,
    format_price,
)
from services.generation.pipeline import DraftOutcome, produce
from services.generation.writer import GenerationFailed, Writer, WriteRequest
from services.notifying.notification_rows import notify

log = logging.getLogger(__name__)

MAX_IMAGES = 10
# The built-in writer varies its wording by this seed: each agent on a home gets their own
# post, and the same agent always gets the same one (reruns are stable).
_VARIANTS = 6
# The listing statuses in which a lifecycle draft is still true.
_EVENT_STATUSES: dict[ContentPurpose, tuple[str, ...]] = {
    ContentPurpose.NOW_SELLING: (ListingStatus.ACTIVE.value,),
    ContentPurpose.BACK_ON_MARKET: (ListingStatus.ACTIVE.value,),
    ContentPurpose.JUST_SOLD: (ListingStatus.SOLD.value, ListingStatus.OFF_MARKET.value),
}
_EVENT_WORDS: dict[ContentPurpose, str] = {
    ContentPurpose.NOW_SELLING: "Now selling",
    ContentPurpose.JUST_SOLD: "Just sold",
    ContentPurpose.BACK_ON_MARKET: "Back on the market",
}


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
class DraftJob:
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
    event: uuid.UUID | None = None  # the status change a lifecycle draft announces

    @property
    def event_key(self) -> str | None:
        """'just_sold:<status change id>': unique per agent, so an event makes one draft."""
        return f"{self.purpose.value}:{self.event}" if self.event is not None else None

    @classmethod
    def for_agent(
        cls,
        agent: Agent,
        listing_id: uuid.UUID,
        facts: ListingFacts,
        *,
        kind: ContentKind,
        purpose: ContentPurpose,
        new_price: Decimal | None = None,
        builder: str = DEFAULT_BUILDER_NAME,
        event: uuid.UUID | None = None,
    ) -> DraftJob:
        """The job for this agent; its key names the draft (a price drop's by the new price,
        a lifecycle draft's by its event)."""
        key: tuple[Any, ...] = (purpose.value, agent.id, listing_id)
        if new_price is not None:
            key += (new_price.normalize(),)
        if event is not None:
            key += (event,)
        return cls(
            key=key,
            agent_id=agent.id,
            listing_id=listing_id,
            kind=kind,
            purpose=purpose,
            facts=facts,
            agent=agent_profile(agent, builder=builder),
            variant=writer_variant(agent.id),
            new_price=new_price,
            event=event,
        )

    def request(self) -> WriteRequest:
        """What the writer is asked for."""
        return WriteRequest(
            kind=self.kind,
            purpose=self.purpose,
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


def agent_profile(agent: Agent, *, builder: str = DEFAULT_BUILDER_NAME) -> AgentProfile:
    """The writer's view of an agent row; `builder` is the home builder posts credit."""
    return AgentProfile(
        name=agent.name,
        email=agent.email,
        company=agent.company,
        phone=agent.phone,
        license_number=agent.license_number,
        builder=builder,
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


def writer_variant(agent_id: uuid.UUID) -> int:
    """The built-in writer's wording variant for this agent (stable across runs)."""
    return zlib.crc32(agent_id.bytes) % _VARIANTS


def _price_at(history: Sequence[repo.PricePoint], at: datetime) -> repo.PricePoint | None:
    """The price change in effect at `at` (the latest one made before it)."""
    found = None
    for point in history:
        if point.changed_at <= at:
            found = point
    return found


def has_draft_at_price(
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


def price_before_drop(piece: ContentPiece, history: Sequence[repo.PricePoint]) -> Decimal | None:
    """For a price-improvement draft: the price before the drop it announces."""
    if piece.purpose != ContentPurpose.PRICE_IMPROVEMENT or piece.created_at is None:
        return None
    point = _price_at(history, piece.created_at)
    if point is None or point.old_price is None or point.new_price is None:
        return None
    return point.old_price if point.old_price > point.new_price else None


def _place(listing: Listing) -> str:
    return f"{listing.address}, {listing.city}"


def _awaiting_message(job: DraftJob, listing: Listing) -> str:
    if job.purpose == ContentPurpose.PRICE_IMPROVEMENT and job.facts.previous_price is not None:
        now = format_price(listing.price) if listing.price is not None else "a new price"
        was = format_price(job.facts.previous_price)
        return f"Price improvement post ready for {_place(listing)}: now {now} (was {was})."
    if job.purpose == ContentPurpose.FLYER:
        return f"Flyer text ready for {_place(listing)}."
    if job.purpose in _EVENT_WORDS:
        return f"{_EVENT_WORDS[job.purpose]} post ready for {_place(listing)}."
    return f"New listing post ready for {_place(listing)}: approve, revise or reject it."


async def _already_written(session: AsyncSession, job: DraftJob) -> uuid.UUID | bool:
    """Re-checked under the agent's lock just before storing a draft."""
    if job.event_key is not None:
        done = await lifecycle_repo.written_events(session, [job.agent_id], [job.event_key])
        return bool(done)
    if job.purpose == ContentPurpose.NEW_LISTING:
        return await repo.has_piece(session, job.agent_id, job.listing_id, job.purpose.value)
    if job.purpose == ContentPurpose.FLYER:
        found = await repo.pending_flyer(session, job.agent_id, job.listing_id)
        return found if found is not None else False
    assert job.new_price is not None
    history = await repo.price_history(session, job.listing_id)
    times = await repo.piece_times(session, job.listing_id, [job.agent_id], job.purpose.value)
    return has_draft_at_price(history, [at for _, at in times], job.new_price)


async def store_draft(database: Database, job: DraftJob, outcome: DraftOutcome) -> uuid.UUID | None:
    """Draft + first version + notification in one transaction; None when it is not needed."""
    async with database.unit_of_work() as session:
        agent = await repo.lock_agent(session, job.agent_id)
        listing = await session.get(Listing, job.listing_id)
        if agent is None or listing is None or not agent.is_active:
            return None
        allowed = _EVENT_STATUSES.get(job.purpose, repo.MARKETABLE)
        if listing.status not in allowed or await _already_written(session, job):
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
            event_key=job.event_key,
        )
        await notify(
            session,
            agent,
            NotificationType.CONTENT_AWAITING_APPROVAL.value,
            _awaiting_message(job, listing),
            related_entity_id=piece.id,
        )
        return piece.id


async def write_drafts(
    database: Database,
    writer: Writer,
    gate: WriterGate,
    jobs: Sequence[DraftJob],
    on_created: Callable[[uuid.UUID], None] | None = None,
) -> DraftRun:
    """Write every job (bounded by the gate); a failure is counted, logged and left for the
    next backfill. A failure no retry can fix (a bad API key) stops the rest of the pass."""
    run = DraftRun()
    stop = asyncio.Event()

    async def one(job: DraftJob) -> None:
        if not gate.claim(job.key):
            run.skipped += 1
            return
        try:
            async with gate.slot():
                if stop.is_set():
                    run.failed += 1
                    return
                outcome = await produce(writer, job.request())
            piece_id = await store_draft(database, job, outcome)
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
