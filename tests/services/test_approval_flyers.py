"""Flyer text is never scheduled or published (PRODUCT.md §10), whatever is tapped.

The approval service refuses before writing, and the transition itself (the fused
statement on PostgreSQL, the statements one by one on SQLite) refuses too, so a forged
or legacy button cannot schedule flyer text even past the service.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import Agent, ApprovalLog, ContentPiece, PostSchedule
from db.repositories import approval as repo
from db.repositories import transitions
from db.status import ContentPurpose, ContentStatus, ContentType
from services import approval
from services import status_machine as machine
from services.approval import NEVER_POSTED
from tests.factories import make_account, make_agent, make_piece

NY = "America/New_York"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FLYER_TEXT = {
    "headline": "Your new home in Ocala",
    "subheadline": "3 bed · 2 bath",
    "bullets": ["Open floor plan", "Two-car garage"],
    "description": "A bright home near the clubhouse.",
    "call_to_action": "Call Chris today",
    "agent_contact": "Chris Doe · Sunrise Realty · Equal Housing Opportunity",
}


async def _conn(session: AsyncSession) -> AsyncConnection:
    await session.flush()
    return await session.connection()


async def _flyer(session: AsyncSession, agent: Agent, status: str) -> ContentPiece:
    return await make_piece(
        session,
        agent,
        status=status,
        content_type=ContentType.FLYER_TEXT,
        purpose=ContentPurpose.FLYER,
        generated_text=FLYER_TEXT,
    )


async def _rows(session: AsyncSession, piece: ContentPiece) -> list[tuple[str, datetime]]:
    result = await session.execute(
        select(PostSchedule.status, PostSchedule.scheduled_at).where(
            PostSchedule.content_piece_id == piece.id
        )
    )
    return [(str(status), at) for status, at in result.all()]


async def test_no_tap_schedules_or_speeds_up_flyer_text(session: AsyncSession) -> None:
    agent = await make_agent(session)
    fb = await make_account(session, agent, "facebook")
    uid = agent.telegram_user_id
    assert uid is not None
    waiting = await _flyer(session, agent, ContentStatus.PENDING_APPROVAL_AGENT)
    signing = await _flyer(session, agent, ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL)
    failed = await _flyer(session, agent, ContentStatus.POSTING_FAILED)
    # Approved before flyers were refused: its post waits for a later slot.
    legacy = await _flyer(session, agent, ContentStatus.APPROVED_FOR_POSTING)
    later = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    await repo.insert_schedule_rows(await _conn(session), legacy.id, [(fb.id, later)])
    session.add(
        PostSchedule(
            content_piece_id=failed.id,
            social_media_account_id=fb.id,
            scheduled_at=NOW,
            status="failed",
        )
    )
    conn = await _conn(session)
    results = [
        await approval.approve(
            conn, piece_id=waiting.id, version=1, telegram_user_id=uid, default_timezone=NY
        ),
        await approval.record_marketing_approval(
            conn, piece_id=signing.id, version=1, telegram_user_id=uid, default_timezone=NY
        ),
        await approval.retry(
            conn, piece_id=failed.id, version=1, telegram_user_id=uid, default_timezone=NY
        ),
        await approval.post_now(conn, piece_id=legacy.id, version=1, telegram_user_id=uid),
    ]
    for res in results:
        assert not res.ok and res.answer == NEVER_POSTED, res
        # The handler redraws the message with a flyer's buttons (none that post).
        assert res.stale and res.content_type == ContentType.FLYER_TEXT
    for piece in (waiting, signing, failed, legacy):
        before = piece.status
        await session.refresh(piece)
        assert piece.status == before
    assert await _rows(session, waiting) == [] and await _rows(session, signing) == []
    assert await _rows(session, failed) == [("failed", NOW)]
    assert await _rows(session, legacy) == [("pending", later)]
    assert (await session.execute(select(func.count()).select_from(ApprovalLog))).scalar() == 0

    # The agent needing marketing sign-off cannot route a flyer there either.
    await session.execute(
        Agent.__table__.update()
        .where(Agent.id == agent.id)
        .values(requires_marketing_approval=True)
    )
    res = await approval.approve(
        await _conn(session),
        piece_id=waiting.id,
        version=1,
        telegram_user_id=uid,
        default_timezone=NY,
    )
    assert not res.ok and res.answer == NEVER_POSTED
    await session.refresh(waiting)
    assert waiting.status == ContentStatus.PENDING_APPROVAL_AGENT


async def test_the_transition_itself_never_schedules_flyer_text(session: AsyncSession) -> None:
    """Past the service's own check: the write refuses on both databases' paths."""
    agent = await make_agent(session)
    fb = await make_account(session, agent, "facebook")
    uid = agent.telegram_user_id
    assert uid is not None
    flyer = await _flyer(session, agent, ContentStatus.PENDING_APPROVAL_AGENT)
    post = await make_piece(session, agent)
    approve = machine.APPROVE

    def schedule(piece_id: uuid.UUID) -> transitions.Request:
        return transitions.Request(
            piece_id,
            version=1,
            telegram_user_id=uid,
            schedule=((fb.id, NOW),),
            slot_plan_version=0,  # as read: no approval planned slots yet
        )

    moved = await transitions.apply(await _conn(session), approve, schedule(flyer.id))
    assert moved is None
    assert await _rows(session, flyer) == []
    await session.refresh(flyer)
    assert flyer.status == ContentStatus.PENDING_APPROVAL_AGENT

    # The very same change schedules a social post: only the content type refused it.
    moved = await transitions.apply(await _conn(session), approve, schedule(post.id))
    assert moved is not None and moved.posts == 1
    assert moved.content_type == ContentType.SOCIAL_MEDIA_POST

    # A flyer approved before this guard existed: its post is not brought forward either.
    await session.execute(
        ContentPiece.__table__.update()
        .where(ContentPiece.id == flyer.id)
        .values(status=ContentStatus.APPROVED_FOR_POSTING.value)
    )
    later = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    await repo.insert_schedule_rows(await _conn(session), flyer.id, [(fb.id, later)])
    move = transitions.Request(flyer.id, version=1, telegram_user_id=uid, move_to=NOW)
    moved = await transitions.apply(await _conn(session), machine.POST_NOW, move)
    assert moved is None and await _rows(session, flyer) == [("pending", later)]
