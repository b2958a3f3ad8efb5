"""Several processes on one database: each draft and notification goes out from one of
them, a crashed one's claims come back after the lease, and bulk rounds take turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import ContentPiece, Notification
from db.process_locks import FANOUT, try_advisory_lock
from db.repositories import delivery as repo
from db.session import create_engine
from db.status import NotificationType
from services.context import Database
from services.notifying import delivery
from services.notifying.notification_rows import notify
from tests.factories import make_agent, make_piece
from tests.services.test_delivery import DAY, NY, RecordingNotifier


@asynccontextmanager
async def other_process(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A second engine on the same database: its sessions are another process's."""
    other = create_engine(engine.url, null_pool=True)
    try:
        yield other
    finally:
        await other.dispose()


async def test_claimed_drafts_are_left_to_their_claimant_until_the_lease_ends(
    database: Database,
) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        mine = await make_piece(s, agent)
        theirs = await make_piece(s, agent)
    # Another process claimed `theirs` for a round and crashed before releasing it.
    async with database.unit_of_work() as s:
        claimed = await repo.drafts_to_deliver(
            s, piece_ids=[theirs.id], now=DAY, claim_until=DAY + delivery.CLAIM_LEASE
        )
    assert [r.piece.id for r in claimed] == [theirs.id]

    notifier = RecordingNotifier()
    stats = await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
    assert stats.sent == 1 and [d.piece_id for d in notifier.drafts] == [mine.id]

    later = DAY + delivery.CLAIM_LEASE + timedelta(seconds=1)
    stats = await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=later)
    assert stats.sent == 1 and [d.piece_id for d in notifier.drafts] == [mine.id, theirs.id]
    async with database.unit_of_work() as s:
        rows = (await s.execute(select(ContentPiece.delivery_claimed_until))).scalars().all()
    assert rows == [None, None]  # every claim of a finished round is given back


async def test_a_round_gives_back_what_it_did_not_send(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s, quiet_hours_start="00:00", quiet_hours_end="23:59")
        piece = await make_piece(s, agent)
    stats = await delivery.deliver_drafts(database, RecordingNotifier(), default_timezone=NY)
    assert stats.deferred == 1
    async with database.unit_of_work() as s:
        row = await s.get(ContentPiece, piece.id)
    assert row is not None and row.delivery_claimed_until is None


async def test_claimed_notifications_are_not_sent_twice(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        await notify(s, agent, NotificationType.POST_FAILED, "The post to Facebook failed.")
    async with database.unit_of_work() as s:
        held = await repo.notifications_to_deliver(
            s, now=DAY, claim_until=DAY + delivery.CLAIM_LEASE
        )
    assert len(held) == 1
    notifier = RecordingNotifier()
    stats = await delivery.deliver_notifications(database, notifier, default_timezone=NY, now=DAY)
    assert stats.sent == 0 and notifier.notes == []
    later = DAY + delivery.CLAIM_LEASE + timedelta(seconds=1)
    stats = await delivery.deliver_notifications(database, notifier, default_timezone=NY, now=later)
    assert stats.sent == 1
    async with database.unit_of_work() as s:
        (note,) = (await s.execute(select(Notification))).scalars().all()
    assert note.delivery_status == "sent" and note.delivery_claimed_until is None


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_rows_locked_by_a_claiming_transaction_are_skipped(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        first = await make_piece(s, agent)
        second = await make_piece(s, agent)
    async with other_process(database.engine) as other, other.connect() as conn:
        # The other process is in the middle of claiming `first` (its row lock is held).
        await conn.execute(
            select(ContentPiece.id).where(ContentPiece.id == first.id).with_for_update()
        )
        notifier = RecordingNotifier()
        stats = await delivery.deliver_drafts(database, notifier, default_timezone=NY, now=DAY)
        await conn.rollback()
    assert stats.sent == 1 and [d.piece_id for d in notifier.drafts] == [second.id]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_bulk_rounds_take_turns_across_processes(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        piece = await make_piece(s, agent)
        await notify(s, agent, NotificationType.POST_FAILED, "The post to Facebook failed.")
    notifier = RecordingNotifier()
    async with other_process(database.engine) as other:
        async with try_advisory_lock(other, FANOUT) as held:
            assert held
            drafts = await delivery.deliver_drafts(database, notifier, default_timezone=NY)
            notes = await delivery.deliver_notifications(database, notifier, default_timezone=NY)
            assert drafts.elsewhere and notes.elsewhere
            assert notifier.drafts == [] and notifier.notes == []
            # A draft the agent is waiting for (after their feedback) does not wait.
            direct = await delivery.deliver_drafts(
                database, notifier, default_timezone=NY, piece_ids=[piece.id], bulk=False
            )
            assert direct.sent == 1
        notes = await delivery.deliver_notifications(database, notifier, default_timezone=NY)
    assert not notes.elsewhere and notes.sent == 1
