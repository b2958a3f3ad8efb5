"""The approval state machine on both databases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import ApprovalLog, ContentPiece, PostSchedule
from db.repositories import accounts, audit, content
from db.repositories import agents as agents_repo
from db.repositories import approval as repo
from services import approval
from services.context import Database
from services.scheduling import ScheduleFull
from tests.factories import make_account, make_agent, make_piece

NY = "America/New_York"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 07:00 in New York


async def _conn(session: AsyncSession) -> AsyncConnection:
    """The session's connection (inside its transaction), with its changes flushed."""
    await session.flush()
    return await session.connection()


async def _approve(session: AsyncSession, piece_id: uuid.UUID, uid: int) -> approval.TapResult:
    """Approve version 1 as `uid`, at NOW in New York."""
    return await approval.approve(
        await _conn(session),
        piece_id=piece_id,
        version=1,
        telegram_user_id=uid,
        default_timezone=NY,
        now=NOW,
    )


async def _status(session: AsyncSession, piece: ContentPiece) -> str:
    await session.refresh(piece)
    return piece.status


async def test_approve_schedules_one_row_per_active_account(session: AsyncSession) -> None:
    agent = await make_agent(session)
    fb = await make_account(session, agent, "facebook")
    ig = await make_account(session, agent, "instagram")
    off = await make_account(session, agent, "facebook")
    await accounts.update_account(session, off.id, is_active=False)
    piece = await make_piece(session, agent)
    res = await _approve(session, piece.id, agent.telegram_user_id)  # type: ignore[arg-type]
    assert res.ok and res.status == "approved_for_posting"
    assert await _status(session, piece) == "approved_for_posting"
    assert piece.last_approved_at == NOW
    rows = (await session.execute(select(PostSchedule))).scalars().all()
    assert {r.social_media_account_id for r in rows} == {fb.id, ig.id}
    assert {r.status for r in rows} == {"pending"}
    assert {r.scheduled_at for r in rows} == {datetime(2026, 12, 1, 14, 0, tzinfo=UTC)}
    assert [s.platform for s in res.scheduled] == ["facebook", "instagram"]
    logs = await audit.list_approval_logs(session, piece.id)
    assert [(log.action_type, log.to_status) for log in logs] == [
        ("approved", "approved_for_posting")
    ]


async def test_second_approved_post_takes_the_next_free_slot(session: AsyncSession) -> None:
    agent = await make_agent(session)
    await make_account(session, agent, "facebook")
    uid = agent.telegram_user_id
    assert uid is not None
    first = await make_piece(session, agent)
    second = await make_piece(session, agent)
    r1 = await _approve(session, first.id, uid)
    r2 = await _approve(session, second.id, uid)
    assert r1.scheduled[0].at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert r2.scheduled[0].at == datetime(2026, 12, 1, 22, 0, tzinfo=UTC)


async def test_marketing_sign_off_path(session: AsyncSession) -> None:
    agent = await make_agent(session, requires_marketing_approval=True)
    await make_account(session, agent, "instagram")
    uid = agent.telegram_user_id
    assert uid is not None
    piece = await make_piece(session, agent)
    res = await _approve(session, piece.id, uid)
    assert res.ok and res.status == "pending_external_marketing_approval"
    assert (await session.execute(select(func.count()).select_from(PostSchedule))).scalar() == 0
    res = await approval.record_marketing_approval(
        await _conn(session),
        piece_id=piece.id,
        version=1,
        telegram_user_id=uid,
        default_timezone=NY,
        now=NOW,
    )
    assert res.ok and res.status == "approved_for_posting" and len(res.scheduled) == 1
    actions = [log.action_type for log in await audit.list_approval_logs(session, piece.id)]
    assert actions == ["sent_to_marketing", "recorded_marketing_approval"]


async def test_reject_and_taps_after_a_decision_change_nothing(session: AsyncSession) -> None:
    agent = await make_agent(session)
    uid = agent.telegram_user_id
    assert uid is not None
    piece = await make_piece(session, agent)
    res = await approval.reject(
        await _conn(session), piece_id=piece.id, version=1, telegram_user_id=uid
    )
    assert res.ok and res.status == "rejected"
    again = await _approve(session, piece.id, uid)
    assert not again.ok and again.stale and "already rejected" in again.answer
    assert await _status(session, piece) == "rejected"
    assert len(await audit.list_approval_logs(session, piece.id)) == 1


async def test_only_the_owner_can_act(session: AsyncSession) -> None:
    owner = await make_agent(session)
    other = await make_agent(session)
    piece = await make_piece(session, owner)
    res = await _approve(session, piece.id, other.telegram_user_id)  # type: ignore[arg-type]
    assert not res.ok and "Only the agent" in res.answer
    res = await approval.reject(
        await _conn(session), piece_id=piece.id, version=1, telegram_user_id=999_999
    )
    assert not res.ok
    assert await _status(session, piece) == "pending_approval_agent"


async def test_old_version_buttons_are_refused(session: AsyncSession) -> None:
    agent = await make_agent(session)
    uid = agent.telegram_user_id
    assert uid is not None
    piece = await make_piece(session, agent)
    await content.update_content_piece(session, piece.id, version=2)
    res = await _approve(session, piece.id, uid)
    assert not res.ok and res.stale and "newer version" in res.answer


async def test_revise_then_feedback_moves_to_pending_ai_revision(session: AsyncSession) -> None:
    agent = await make_agent(session)
    uid = agent.telegram_user_id
    assert uid is not None
    piece = await make_piece(session, agent)
    assert (
        await approval.submit_feedback(await _conn(session), telegram_user_id=uid, text="shorter")
        is None
    )
    tap = await approval.start_revision(
        await _conn(session), piece_id=piece.id, version=1, telegram_user_id=uid
    )
    assert tap.ok
    got = await approval.submit_feedback(
        await _conn(session), telegram_user_id=uid, text="  Make it shorter, mention the pool  "
    )
    assert got is not None and got.piece_id == piece.id
    assert await _status(session, piece) == "pending_ai_revision"
    assert piece.feedback == "Make it shorter, mention the pool"
    logs = await audit.list_approval_logs(session, piece.id)
    assert [(log.action_type, log.feedback) for log in logs] == [
        ("requested_revisions", "Make it shorter, mention the pool")
    ]
    # the pending feedback was consumed: a second message is not feedback
    assert (
        await approval.submit_feedback(await _conn(session), telegram_user_id=uid, text="more")
        is None
    )


async def test_reply_to_a_draft_is_feedback_on_that_draft(session: AsyncSession) -> None:
    agent = await make_agent(session)
    uid = agent.telegram_user_id
    assert uid is not None
    piece = await make_piece(session, agent)
    got = await approval.submit_feedback(
        await _conn(session), telegram_user_id=uid, text="no emojis", piece_id=piece.id, version=1
    )
    assert got is not None and await _status(session, piece) == "pending_ai_revision"


async def test_feedback_is_stored_without_nul_or_a_trailing_space(session: AsyncSession) -> None:
    # U+0000 made PostgreSQL refuse the insert (an exception out of the text handler).
    agent = await make_agent(session)
    uid = agent.telegram_user_id
    assert uid is not None
    piece, other = await make_piece(session, agent), await make_piece(session, agent)
    got = await approval.submit_feedback(
        await _conn(session),
        telegram_user_id=uid,
        text="shorter\x00 please",
        piece_id=piece.id,
        version=1,
    )
    assert got is not None and await _status(session, piece) == "pending_ai_revision"
    assert piece.feedback == "shorter please"
    nothing = await approval.submit_feedback(
        await _conn(session), telegram_user_id=uid, text=" \x00 ", piece_id=other.id, version=1
    )
    assert nothing is None and await _status(session, other) == "pending_approval_agent"
    long = await approval.submit_feedback(
        await _conn(session),
        telegram_user_id=uid,
        text="make it " * 512,
        piece_id=other.id,
        version=1,
    )
    assert long is not None
    await session.refresh(other)
    assert other.feedback == ("make it " * 250).rstrip()
    assert len(other.feedback) == approval.MAX_FEEDBACK_CHARS - 1


async def test_post_now_cancel_and_retry(session: AsyncSession) -> None:
    agent = await make_agent(session)
    fb = await make_account(session, agent, "facebook")
    ig = await make_account(session, agent, "instagram")
    uid = agent.telegram_user_id
    assert uid is not None
    piece = await make_piece(session, agent)
    await _approve(session, piece.id, uid)
    res = await approval.post_now(
        await _conn(session), piece_id=piece.id, version=1, telegram_user_id=uid, now=NOW
    )
    assert res.ok
    rows = (await session.execute(select(PostSchedule))).scalars().all()
    assert {r.scheduled_at for r in rows} == {NOW}
    res = await approval.cancel(
        await _conn(session), piece_id=piece.id, version=1, telegram_user_id=uid
    )
    assert res.ok and res.status == "rejected"
    for r in rows:
        await session.refresh(r)
    assert {r.status for r in rows} == {"cancelled"}

    # a failed post: only the failed account is retried
    other = await make_piece(session, agent)
    await _approve(session, other.id, uid)
    rows = (
        (
            await session.execute(
                select(PostSchedule).where(PostSchedule.content_piece_id == other.id)
            )
        )
        .scalars()
        .all()
    )
    for r in rows:
        r.status = "success" if r.social_media_account_id == fb.id else "failed"
    other.status = "posting_failed"
    await session.flush()
    res = await approval.retry(
        await _conn(session),
        piece_id=other.id,
        version=1,
        telegram_user_id=uid,
        default_timezone=NY,
        now=NOW,
    )
    assert res.ok and [s.platform for s in res.scheduled] == ["instagram"]
    pending = (
        (
            await session.execute(
                select(PostSchedule).where(
                    PostSchedule.content_piece_id == other.id, PostSchedule.status == "pending"
                )
            )
        )
        .scalars()
        .all()
    )
    assert [r.social_media_account_id for r in pending] == [ig.id]


async def test_two_taps_at_once_make_one_transition(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        await make_account(s, agent, "facebook")
        piece = await make_piece(s, agent)
    uid = agent.telegram_user_id
    assert uid is not None

    async def tap() -> approval.TapResult:
        async with database.tap() as conn:
            return await approval.approve(
                conn, piece_id=piece.id, version=1, telegram_user_id=uid, default_timezone=NY
            )

    results = await asyncio.gather(*(tap() for _ in range(5)))
    assert sum(r.ok for r in results) == 1
    async with database.unit_of_work() as s:
        logs = (
            await s.execute(
                select(func.count())
                .select_from(ApprovalLog)
                .where(ApprovalLog.content_piece_id == piece.id)
            )
        ).scalar()
        rows = (await s.execute(select(func.count()).select_from(PostSchedule))).scalar()
        agent_row = await agents_repo.get_agent(s, agent.id)
    assert logs == 1 and rows == 1 and agent_row is not None


async def test_approvals_at_once_by_one_agent_take_different_slots(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taps delivered together: each reads the free slots only after the one before wrote."""
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        fb = await make_account(s, agent, "facebook")
        pieces = [await make_piece(s, agent) for _ in range(3)]
    uid = agent.telegram_user_id
    assert uid is not None
    read = repo.schedule_context

    async def slow_read(*args: Any, **kwargs: Any) -> Any:
        ctx = await read(*args, **kwargs)
        # Without turns, every tap would read the same free slots during this pause.
        await asyncio.sleep(0.05)
        return ctx

    monkeypatch.setattr(repo, "schedule_context", slow_read)

    async def tap(piece: ContentPiece) -> approval.TapResult:
        async with database.tap() as conn:
            return await approval.approve(
                conn,
                piece_id=piece.id,
                version=1,
                telegram_user_id=uid,
                default_timezone=NY,
                now=NOW,
            )

    results = await asyncio.gather(*(tap(p) for p in pieces))
    assert all(r.ok for r in results)
    async with database.unit_of_work() as s:
        slots = (await s.execute(select(PostSchedule.scheduled_at))).scalars().all()
        logs = (await s.execute(select(func.count()).select_from(ApprovalLog))).scalar()
    # 09:00 and 17:00 in New York: Dec 1 14:00 and 22:00 UTC, then Dec 2 14:00.
    first_three = [
        datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 22, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 14, 0, tzinfo=UTC),
    ]
    assert sorted(slots) == first_three
    assert sorted(r.scheduled[0].at for r in results) == first_three
    assert {r.scheduled[0].platform for r in results} == {fb.platform}
    assert logs == 3


async def test_approve_with_every_slot_taken_says_what_to_do_and_changes_nothing(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await make_agent(session)
    await make_account(session, agent, "facebook")
    piece = await make_piece(session, agent)

    def full(*args: Any, **kwargs: Any) -> datetime:
        raise ScheduleFull("no free posting slot within a year")

    monkeypatch.setattr(approval, "next_free_slot", full)
    res = await _approve(session, piece.id, agent.telegram_user_id)  # type: ignore[arg-type]
    assert not res.ok and not res.stale
    assert res.answer.startswith("Every posting slot of the next year is taken")
    assert "/settings" in res.answer
    assert await _status(session, piece) == "pending_approval_agent"
    assert (await session.execute(select(func.count()).select_from(PostSchedule))).scalar() == 0
    assert (await session.execute(select(func.count()).select_from(ApprovalLog))).scalar() == 0


async def test_every_tap_on_the_tap_connection(database: Database) -> None:
    """The bot's path: no transaction, one statement per write on PostgreSQL (db.driver)."""
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        fb = await make_account(s, agent, "facebook")
        ig = await make_account(s, agent, "instagram")
        first = await make_piece(s, agent)
        second = await make_piece(s, agent)
        third = await make_piece(s, agent)
    uid = agent.telegram_user_id
    assert uid is not None
    tz = NY

    async with database.tap() as conn:
        ok = await approval.approve(
            conn, piece_id=first.id, version=1, telegram_user_id=uid, default_timezone=tz, now=NOW
        )
        again = await approval.approve(
            conn, piece_id=first.id, version=1, telegram_user_id=uid, default_timezone=tz, now=NOW
        )
        now = await approval.post_now(
            conn, piece_id=first.id, version=1, telegram_user_id=uid, now=NOW
        )
        revise = await approval.start_revision(
            conn, piece_id=second.id, version=1, telegram_user_id=uid
        )
        reject = await approval.reject(conn, piece_id=third.id, version=1, telegram_user_id=uid)
        stranger = await approval.reject(
            conn, piece_id=second.id, version=1, telegram_user_id=uid + 1
        )
    assert ok.ok and ok.status == "approved_for_posting"
    assert {(p.platform, p.at) for p in ok.scheduled} == {
        ("facebook", datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),
        ("instagram", datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),
    }
    assert not again.ok and "already approved" in again.answer
    assert now.ok and revise.ok and reject.ok and reject.status == "rejected"
    assert not stranger.ok and "Only the agent" in stranger.answer

    async with database.unit_of_work() as s:
        rows = (await s.execute(select(PostSchedule))).scalars().all()
        logs = await audit.list_approval_logs(s, first.id)
        statuses = dict((await s.execute(select(ContentPiece.id, ContentPiece.status))).all())
    assert {(r.social_media_account_id, r.status, r.scheduled_at) for r in rows} == {
        (fb.id, "pending", NOW),
        (ig.id, "pending", NOW),
    }
    assert [(log.action_type, log.to_status, log.version) for log in logs] == [
        ("approved", "approved_for_posting", 1)
    ]
    assert statuses == {
        first.id: "approved_for_posting",
        second.id: "pending_approval_agent",
        third.id: "rejected",
    }

    async with database.tap() as conn:
        cancelled = await approval.cancel(conn, piece_id=first.id, version=1, telegram_user_id=uid)
    assert cancelled.ok
    async with database.unit_of_work() as s:
        left = (await s.execute(select(PostSchedule.status))).scalars().all()
    assert sorted(left) == ["cancelled", "cancelled"]
