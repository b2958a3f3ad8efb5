"""Events in, drafts out: new homes, price drops and status changes become drafts; feedback
becomes versions.

Every draft follows the same path (`services.drafting.draft_writing`): read the facts in a short
transaction, write outside any transaction, store the draft with its first version and its
notification in one transaction, and push it. Rewrites live in `services.drafting.revisions`,
flyers in `services.drafting.flyers`; `DraftMaker` is what the bot holds for all three.

Nothing here remembers work in memory: a draft that failed to write, or was lost to a crash
between the scrape's commit and the writer, is found again by `DraftMaker.backfill()` (recent
assignments with no post, recent price drops with no price-improvement post), and a draft left
in `pending_ai_revision` is picked up by `regenerate()`, which the regenerate job runs often.
Duplicates are refused twice: in this process by an in-flight key per draft, and across
processes by re-checking under a row lock on the agent in the writing transaction.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Agent, Listing
from db.repositories import drafts as repo
from db.repositories import lifecycle as lifecycle_repo
from db.status import ContentPurpose
from services.context import Database
from services.drafting.draft_writing import (
    DraftJob,
    DraftRun,
    WriterGate,
    has_draft_at_price,
    listing_facts,
    write_drafts,
)
from services.drafting.flyers import FlyerResult, request_flyer
from services.drafting.lifecycle_drafts import lifecycle_jobs
from services.drafting.revisions import REVISE_LIMIT, regenerate
from services.generation.listing_facts import DEFAULT_BUILDER_NAME
from services.generation.writer import Writer
from services.notifying import delivery
from services.notifying.notifier import Notifier
from services.scraping.listing_events import ListingEvents, PriceChange, StatusChange

log = logging.getLogger(__name__)

__all__ = ["DraftMaker", "DraftRun", "FlyerResult", "WriterGate"]

BACKFILL_WINDOW = timedelta(days=3)
BACKFILL_LIMIT = 20


# --- jobs for new homes and price drops ---------------------------------------------------


def _new_listing_job(agent: Agent, listing: Listing, builder: str) -> DraftJob:
    return DraftJob.for_agent(
        agent,
        listing.id,
        listing_facts(listing),
        kind="social_media_post",
        purpose=ContentPurpose.NEW_LISTING,
        builder=builder,
    )


async def _new_listing_jobs(
    session: AsyncSession, pairs: Sequence[tuple[Agent, Listing]], builder: str
) -> tuple[list[DraftJob], int]:
    ids = [(a.id, lst.id) for a, lst in pairs]
    done = await repo.pairs_with_piece(session, ids, ContentPurpose.NEW_LISTING.value)
    jobs = [_new_listing_job(a, lst, builder) for a, lst in pairs if (a.id, lst.id) not in done]
    return jobs, len(pairs) - len(jobs)


async def _price_jobs(
    session: AsyncSession, drops: Sequence[tuple[uuid.UUID, Decimal, Decimal]], builder: str
) -> tuple[list[DraftJob], int]:
    jobs: list[DraftJob] = []
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
            if has_draft_at_price(history, mine, new):
                skipped += 1
                continue
            jobs.append(
                DraftJob.for_agent(
                    agent,
                    listing_id,
                    facts,
                    kind="social_media_post",
                    purpose=ContentPurpose.PRICE_IMPROVEMENT,
                    new_price=new,
                    builder=builder,
                )
            )
    return jobs, skipped


# --- the service the bot holds -----------------------------------------------------------


class _Courier:
    """Pushes new drafts as they are stored, coalescing bursts into one delivery round
    (delivery keeps each agent's messages in order)."""

    def __init__(
        self,
        database: Database,
        notifier: Notifier,
        default_timezone: str,
        print_flyer: delivery.PrintFlyer | None,
    ) -> None:
        self._database = database
        self._notifier = notifier
        self._timezone = default_timezone
        self._print_flyer = print_flyer
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

    async def deliver(self, piece_ids: Sequence[uuid.UUID], *, bulk: bool = True) -> None:
        try:
            await delivery.deliver_drafts(
                self._database,
                self._notifier,
                default_timezone=self._timezone,
                piece_ids=list(piece_ids),
                bulk=bulk,
                print_flyer=self._print_flyer,
            )
        except Exception:
            # The deliver job sends whatever is still undelivered on its next round.
            log.exception("immediate draft delivery failed")

    async def flush(self) -> None:
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


class DraftMaker:
    """Turns listing events into drafts (the scrape's `ListingEvents`), rewrites drafts from
    feedback and writes flyers on request. With a notifier it pushes drafts at once (a flyer
    with its PDF when `print_flyer` is given)."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        *,
        notifier: Notifier | None = None,
        default_timezone: str = "UTC",
        gate: WriterGate | None = None,
        backfill_window: timedelta = BACKFILL_WINDOW,
        builder_name: str = DEFAULT_BUILDER_NAME,
        print_flyer: delivery.PrintFlyer | None = None,
    ) -> None:
        self.database = database
        self.builder = builder_name
        self.writer = writer
        self.gate = gate or WriterGate()
        self.backfill_window = backfill_window
        self.failures = 0
        self._courier = (
            _Courier(database, notifier, default_timezone, print_flyer)
            if notifier is not None
            else None
        )

    async def _write(self, jobs: Sequence[DraftJob]) -> DraftRun:
        push = self._courier.push if self._courier is not None else None
        run = await write_drafts(self.database, self.writer, self.gate, jobs, push)
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
        """`ListingEvents`: nothing to write; the scrape withdraws the pending drafts itself
        (the `just sold` post comes with the status change)."""

    async def on_status_change(self, changes: Sequence[StatusChange]) -> None:
        """`ListingEvents`: homes changed status."""
        await self.lifecycle(changes)

    async def lifecycle(self, changes: Sequence[StatusChange]) -> DraftRun:
        """A `now selling`, `just sold` or back-on-the-market post per assigned agent for each
        status change that calls for one (once per event, see `lifecycle_drafts`)."""
        async with self.database.unit_of_work() as session:
            jobs, skipped = await lifecycle_jobs(session, changes, self.builder)
        run = await self._write(jobs)
        run.skipped += skipped
        return run

    async def new_listings(self, listing_ids: Sequence[uuid.UUID]) -> DraftRun:
        """A `social_media_post` for every agent assigned to each new listing."""
        async with self.database.unit_of_work() as session:
            pairs = await repo.assignments(session, listing_ids)
            jobs, skipped = await _new_listing_jobs(session, pairs, self.builder)
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
            jobs, skipped = await _price_jobs(session, drops, self.builder)
        run = await self._write(jobs)
        run.skipped += skipped
        return run

    async def backfill(
        self, *, limit: int = BACKFILL_LIMIT, now: datetime | None = None
    ) -> DraftRun:
        """Write drafts that should exist but do not: homes first seen and assigned recently
        with no post (a failed writer, or a crash after the scrape committed), recent price
        drops with no price-improvement post and recent status changes with no lifecycle post.
        Bounded by `limit` per kind per run.

        Homes seen before the window get no post even when newly assigned (an agent joining
        or changing areas is not news about the home)."""
        since = (now or utcnow()) - self.backfill_window
        async with self.database.unit_of_work() as session:
            missing = await repo.missing_new_listing_drafts(session, since=since, limit=limit)
            new_jobs, _ = await _new_listing_jobs(session, missing, self.builder)
            drops = await repo.recent_price_drops(session, since=since, limit=limit)
            price_jobs, _ = await _price_jobs(session, drops, self.builder)
            changes = await lifecycle_repo.recent_status_changes(session, since=since, limit=limit)
            event_jobs, _ = await lifecycle_jobs(
                session, [StatusChange(*c) for c in changes], self.builder
            )
        run = await self._write([*new_jobs, *price_jobs, *event_jobs])
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
            self.database,
            self.writer,
            piece_ids=piece_ids,
            limit=limit,
            gate=self.gate,
            builder=self.builder,
        )
        if ids and self._courier is not None:
            # The agent is waiting for these: sent at once, not in turn with fan-outs.
            await self._courier.deliver(ids, bulk=False)
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
            builder=self.builder,
        )
        if result.ok and result.piece_id is not None and self._courier is not None:
            await self._courier.deliver([result.piece_id], bulk=False)
        return result


if TYPE_CHECKING:

    def _is_listing_events(maker: DraftMaker) -> ListingEvents:
        return maker  # mypy proves DraftMaker satisfies the scrape's hook protocol
