"""A deactivated agent can no longer act on a draft: every action answers one sentence and
changes nothing (the owner check of each write includes `agents.is_active`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import ApprovalLog, ContentPiece, PendingFeedback, PostSchedule
from db.repositories import agents as agents_repo
from db.repositories import transitions
from db.status import ContentStatus
from services import approval
from services import status_machine as machine
from services.approval import TapResult
from services.context import Database
from services.drafting.flyers import request_flyer
from services.errors import ACCOUNT_DEACTIVATED
from services.generation.builtin_writer import BuiltinWriter
from tests.factories import make_account, make_agent, make_piece

NY = "America/New_York"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
S = ContentStatus

Tap = Callable[[AsyncConnection, ContentPiece, int], Awaitable[TapResult]]


async def _approve(c: AsyncConnection, p: ContentPiece, uid: int) -> TapResult:
    return await approval.approve(
        c, piece_id=p.id, version=1, telegram_user_id=uid, default_timezone=NY, now=NOW
    )


async def _marketing(c: AsyncConnection, p: ContentPiece, uid: int) -> TapResult:
    return await approval.record_marketing_approval(
        c, piece_id=p.id, version=1, telegram_user_id=uid, default_timezone=NY, now=NOW
    )


async def _post_now(c: AsyncConnection, p: ContentPiece, uid: int) -> TapResult:
    return await approval.post_now(c, piece_id=p.id, version=1, telegram_user_id=uid, now=NOW)


async def _retry(c: AsyncConnection, p: ContentPiece, uid: int) -> TapResult:
    return await approval.retry(
        c, piece_id=p.id, version=1, telegram_user_id=uid, default_timezone=NY, now=NOW
    )


async def _cancel(c: AsyncConnection, p: ContentPiece, uid: int) -> TapResult:
    return await approval.cancel(c, piece_id=p.id, version=1, telegram_user_id=uid)


async def _reject(c: AsyncConnection, p: ContentPiece, uid: int) -> TapResult:
    return await approval.reject(c, piece_id=p.id, version=1, telegram_user_id=uid)


async def _revise(c: AsyncConnection, p: ContentPiece, uid: int) -> TapResult:
    return await approval.start_revision(c, piece_id=p.id, version=1, telegram_user_id=uid)


# (action, the draft's status, the status of its post row if it has one)
ACTIONS: list[tuple[Tap, str, str | None]] = [
    (_approve, S.PENDING_APPROVAL_AGENT, None),
    (_marketing, S.PENDING_EXTERNAL_MARKETING_APPROVAL, None),
    (_post_now, S.APPROVED_FOR_POSTING, "pending"),
    (_retry, S.POSTING_FAILED, "failed"),
    (_cancel, S.APPROVED_FOR_POSTING, "pending"),
    (_reject, S.PENDING_APPROVAL_AGENT, None),
    (_revise, S.PENDING_APPROVAL_AGENT, None),
]


@pytest.mark.parametrize(
    ("tap", "status", "post"), ACTIONS, ids=[t.__name__.strip("_") for t, _, _ in ACTIONS]
)
async def test_a_deactivated_agent_cannot_act(
    session: AsyncSession, tap: Tap, status: str, post: str | None
) -> None:
    agent = await make_agent(session)
    fb = await make_account(session, agent, "facebook")
    uid = agent.telegram_user_id
    assert uid is not None
    piece = await make_piece(session, agent, status=status)
    later = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    if post is not None:
        session.add(
            PostSchedule(
                content_piece_id=piece.id,
                social_media_account_id=fb.id,
                scheduled_at=later,
                status=post,
            )
        )
    await agents_repo.update_agent(session, agent.id, is_active=False)
    await session.flush()

    res = await tap(await session.connection(), piece, uid)
    assert not res.ok and res.answer == ACCOUNT_DEACTIVATED
    assert not res.stale  # the buttons stay: an administrator may reactivate the agent
    await session.refresh(piece)
    assert piece.status == status
    rows = (await session.execute(select(PostSchedule.status, PostSchedule.scheduled_at))).all()
    assert [tuple(r) for r in rows] == ([] if post is None else [(post, later)])
    assert (await session.execute(select(func.count()).select_from(ApprovalLog))).scalar() == 0
    assert (await session.execute(select(func.count()).select_from(PendingFeedback))).scalar() == 0

    # Reactivated, the same tap works: only is_active refused it.
    await agents_repo.update_agent(session, agent.id, is_active=True)
    await session.flush()
    assert (await tap(await session.connection(), piece, uid)).ok


async def test_feedback_from_a_deactivated_agent_changes_nothing(session: AsyncSession) -> None:
    agent = await make_agent(session)
    uid = agent.telegram_user_id
    assert uid is not None
    piece = await make_piece(session, agent)
    await agents_repo.update_agent(session, agent.id, is_active=False)
    await session.flush()
    got = await approval.submit_feedback(
        await session.connection(),
        telegram_user_id=uid,
        text="shorter",
        piece_id=piece.id,
        version=1,
    )
    assert got is None
    # The transition itself refuses, whoever calls it.
    moved = await transitions.apply(
        await session.connection(),
        machine.REJECT,
        transitions.Request(piece.id, version=1, telegram_user_id=uid),
    )
    assert moved is None
    await session.refresh(piece)
    assert piece.status == S.PENDING_APPROVAL_AGENT and piece.feedback is None


async def test_a_deactivated_agent_cannot_ask_for_a_flyer(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        piece = await make_piece(s, agent)
        await agents_repo.update_agent(s, agent.id, is_active=False)
    assert agent.telegram_user_id is not None
    accepted: list[bool] = []

    async def on_accepted() -> None:
        accepted.append(True)

    result = await request_flyer(
        database,
        BuiltinWriter(),
        piece_id=piece.id,
        telegram_user_id=agent.telegram_user_id,
        on_accepted=on_accepted,
    )
    assert not result.ok and result.message == ACCOUNT_DEACTIVATED and accepted == []
    async with database.unit_of_work() as s:
        count = await s.scalar(select(func.count()).select_from(ContentPiece))
    assert count == 1
