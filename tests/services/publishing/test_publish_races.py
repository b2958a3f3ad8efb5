"""Races around publishing, interleaved deterministically (no sleeps decide the order).

A scrape withdrawal reads the drafts of a sold home, then rejects them and cancels their
pending posts; a publisher claims a due post; the agent taps Cancel. Whatever the order,
a post never goes out for a draft that was withdrawn or cancelled, and Cancel never says
"Nothing will be posted" while a post is being published.

The withdrawal is paused between two of its statements by a `before_cursor_execute`
hook that runs the claim right there (`await_only` drives the claim's coroutine from the
withdrawal's own greenlet), so the interleaving is exactly the one named.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import await_only

from db.base import utcnow
from db.models import Agent, ApprovalLog, ContentPiece, PostSchedule
from db.repositories import publish_claims, publish_outcomes
from db.repositories import scraping as ingest_repo
from services import approval
from services.approval import IN_FLIGHT
from services.context import Database
from services.scraping.withdrawals import withdraw_drafts
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.conftest import Seeded, piece_of, rows_of, seed_post
from tests.status_watch import force_status

SOLD = "The home was sold, so this draft was withdrawn."


async def _claim(database: Database) -> list[uuid.UUID]:
    """One publisher's claim, in its own committed transaction (as the publish job)."""
    async with database.unit_of_work() as s:
        return await publish_claims.claim(s, now=utcnow(), worker_id="race-test", limit=10)


@asynccontextmanager
async def _paused_before(
    session: AsyncSession, sql_prefix: str, run: Callable[[], Awaitable[object]]
) -> AsyncIterator[list[object]]:
    """Run `run()` once, right before `session` sends its first statement starting with
    `sql_prefix`; its result lands in the yielded list."""
    conn = (await session.connection()).sync_connection
    assert conn is not None
    done: list[object] = []

    def pause(*args: Any) -> None:
        statement = str(args[2])
        if not done and statement.lstrip().upper().startswith(sql_prefix.upper()):
            done.append(await_only(run()))

    event.listen(conn, "before_cursor_execute", pause)
    try:
        yield done
    finally:
        event.remove(conn, "before_cursor_execute", pause)
    assert done, f"no statement starting with {sql_prefix!r} was sent"


async def _withdraw(database: Database, seeded: Seeded, pause_before: str) -> list[uuid.UUID]:
    """The scrape's withdrawal of the seeded draft's home; a claim runs at `pause_before`.
    Returns the ids the claim took."""
    listing_id = (await piece_of(database, seeded.piece_id)).listing_id
    async with (
        database.unit_of_work() as s,
        _paused_before(s, pause_before, lambda: _claim(database)) as claimed,
    ):
        await withdraw_drafts(s, {listing_id: SOLD}, utcnow())
    (ids,) = claimed
    assert isinstance(ids, list)
    return ids


async def _never_rejected_and_published(database: Database, seeded: Seeded) -> str:
    """The invariant: a withdrawn (rejected) draft has no post being published."""
    piece = await piece_of(database, seeded.piece_id)
    statuses = {r.status for r in await rows_of(database, seeded.piece_id)}
    assert not (piece.status == "rejected" and "sent" in statuses), (piece.status, statuses)
    return piece.status


def _postgresql_only(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the withdrawal holds it from its first write on")


async def test_a_claim_between_the_withdrawal_read_and_its_writes(
    database: Database, fake: FakeGraphApi
) -> None:
    seeded = await seed_post(database, fake, platforms=("facebook",))
    write = "UPDATE rltr_mktg_content_pieces"
    if database.engine.dialect.name == "postgresql":
        # There the withdrawal's writes are one statement (db.repositories.transitions).
        write = "WITH moved AS \n(" + write
    claimed = await _withdraw(database, seeded, write)
    status = await _never_rejected_and_published(database, seeded)
    (row,) = await rows_of(database, seeded.piece_id)
    if database.engine.dialect.name == "postgresql":
        # The read locked the draft: the claim skipped it; the withdrawal went through.
        assert claimed == [] and status == "rejected" and row.status == "cancelled"
    else:
        # SQLite: the read locks nothing, the claim went first; the write saw the post
        # going out and left the draft approved.
        assert claimed == [row.id] and status == "approved_for_posting" and row.status == "sent"
    async with database.unit_of_work() as s:
        logs = (await s.execute(select(ApprovalLog.feedback))).scalars().all()
    assert logs == ([SOLD] if status == "rejected" else [])


async def test_a_claim_between_the_withdrawal_reject_and_its_cancel(
    database: Database, fake: FakeGraphApi
) -> None:
    _postgresql_only(database)
    seeded = await seed_post(database, fake, platforms=("facebook",))
    claimed = await _withdraw(database, seeded, "UPDATE rltr_mktg_post_schedule")
    assert claimed == []
    assert await _never_rejected_and_published(database, seeded) == "rejected"
    assert [r.status for r in await rows_of(database, seeded.piece_id)] == ["cancelled"]


async def _wait_until_blocked(database: Database) -> None:
    """Until another connection of this database waits for a row lock."""
    async with database.engine.connect() as conn, asyncio.timeout(10):
        while not (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        ).scalar():
            await conn.rollback()  # a fresh snapshot of pg_stat_activity
            await asyncio.sleep(0.01)


@asynccontextmanager
async def _claim_in_flight(database: Database, seeded: Seeded) -> AsyncIterator[None]:
    """A claim made and not yet committed while the block runs; committed at its end."""
    async with database.unit_of_work() as s:
        assert await publish_claims.claim(s, now=utcnow(), worker_id="in-flight", limit=10) == (
            seeded.schedule_ids
        )
        yield


async def test_a_withdrawal_during_a_claim_in_flight_waits_and_keeps_the_draft(
    database: Database, fake: FakeGraphApi
) -> None:
    _postgresql_only(database)
    seeded = await seed_post(database, fake, platforms=("facebook",))
    listing_id = (await piece_of(database, seeded.piece_id)).listing_id

    async def withdraw() -> list[ingest_repo.WithdrawnPiece]:
        async with database.unit_of_work() as s:
            return await withdraw_drafts(s, {listing_id: SOLD}, utcnow())

    async with _claim_in_flight(database, seeded):
        withdrawal = asyncio.create_task(withdraw())
        await _wait_until_blocked(database)
    assert await withdrawal == []
    assert await _never_rejected_and_published(database, seeded) == "approved_for_posting"
    assert [r.status for r in await rows_of(database, seeded.piece_id)] == ["sent"]


async def _agent_uid(database: Database, seeded: Seeded) -> int:
    async with database.unit_of_work() as s:
        agent = await s.get(Agent, seeded.agent_id)
    assert agent is not None and agent.telegram_user_id is not None
    return agent.telegram_user_id


async def _cancel(database: Database, seeded: Seeded) -> approval.TapResult:
    uid = await _agent_uid(database, seeded)
    async with database.tap() as conn:
        return await approval.cancel(
            conn, piece_id=seeded.piece_id, version=1, telegram_user_id=uid
        )


async def test_cancel_while_a_post_is_being_published_says_so_and_changes_nothing(
    database: Database, fake: FakeGraphApi
) -> None:
    seeded = await seed_post(database, fake, platforms=("facebook", "instagram"))
    assert len(await _claim(database)) == 2
    # One of the two went back to waiting (a retryable error): the other is still out.
    async with database.unit_of_work() as s:
        await publish_outcomes.requeue(
            s, seeded.schedule_ids[0], at=utcnow(), error_message="later", now=utcnow()
        )
    res = await _cancel(database, seeded)
    assert not res.ok and res.answer == IN_FLIGHT
    assert (await piece_of(database, seeded.piece_id)).status == "approved_for_posting"
    assert sorted(r.status for r in await rows_of(database, seeded.piece_id)) == [
        "pending",
        "sent",
    ]
    async with database.unit_of_work() as s:
        assert (await s.execute(select(ApprovalLog))).first() is None


async def test_cancel_during_a_claim_in_flight_waits_for_it_and_refuses(
    database: Database, fake: FakeGraphApi
) -> None:
    _postgresql_only(database)
    seeded = await seed_post(database, fake, platforms=("facebook",))
    async with _claim_in_flight(database, seeded):
        cancel = asyncio.create_task(_cancel(database, seeded))
        await _wait_until_blocked(database)
    res = await cancel
    assert not res.ok and res.answer == IN_FLIGHT
    assert (await piece_of(database, seeded.piece_id)).status == "approved_for_posting"
    assert [r.status for r in await rows_of(database, seeded.piece_id)] == ["sent"]


async def test_cancel_after_one_post_went_live_does_not_say_nothing_was_posted(
    database: Database, fake: FakeGraphApi
) -> None:
    seeded = await seed_post(database, fake, platforms=("facebook", "instagram"))
    async with database.unit_of_work() as s:
        await s.execute(
            update(PostSchedule)
            .where(PostSchedule.id == seeded.schedule_ids[0])
            .values(status="success")
        )
    res = await _cancel(database, seeded)
    assert res.ok
    assert res.answer == "Cancelled. Nothing more will be posted; what is already live stays up."
    assert sorted(r.status for r in await rows_of(database, seeded.piece_id)) == [
        "cancelled",
        "success",
    ]


async def test_the_claim_takes_no_post_of_a_draft_that_is_not_approved(
    database: Database, fake: FakeGraphApi
) -> None:
    """Checked in the claim's own statement, whatever the post rows say."""
    seeded = await seed_post(database, fake, platforms=("facebook",))
    async with database.unit_of_work() as s:
        await s.execute(
            update(ContentPiece).where(ContentPiece.id == seeded.piece_id).values(status="rejected")
        )
        assert await publish_claims.due_accounts(s, now=utcnow(), limit=10) == []
    assert await _claim(database) == []
    assert [r.status for r in await rows_of(database, seeded.piece_id)] == ["pending"]
    # A post of a draft one of whose other posts failed still goes out.
    async with database.unit_of_work() as s:
        # Not a change any flow makes (rejected is final): the claim's own check is tested.
        await force_status(s, seeded.piece_id, "posting_failed")
    assert await _claim(database) == seeded.schedule_ids
