"""An approval whose slot read went stale writes nothing and reads again (PostgreSQL).

Another process (here: a dashboard click, which takes its turn under another key) plans
one of the agent's slots between a tap's read and its write. The tap's write then finds
the agent's slot_plan_version moved on, changes nothing, and the tap plans again from a
fresh read. (SQLite needs no guard: its taps take turns from read to commit.)
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import ApprovalLog, ContentPiece, PostSchedule
from db.repositories import approval as repo
from services import approval
from services.context import Database
from tests.factories import make_account, make_agent, make_piece

NY = "America/New_York"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 07:00 in New York
NINE_AM = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
FIVE_PM = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


async def _tap_approve(database: Database, piece: uuid.UUID, uid: int) -> approval.TapResult:
    async with database.tap() as conn:
        return await approval.approve(
            conn, piece_id=piece, version=1, telegram_user_id=uid, default_timezone=NY, now=NOW
        )


async def test_a_slot_planned_between_read_and_write_sends_the_tap_back_to_read(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        await make_account(s, agent, "facebook")
        tapped, clicked = await make_piece(s, agent), await make_piece(s, agent)
    uid = agent.telegram_user_id
    assert uid is not None
    read = repo.schedule_context
    reads: list[int] = []

    async def read_then_lose_the_race(*args: Any, **kwargs: Any) -> Any:
        ctx = await read(*args, **kwargs)
        reads.append(ctx.slot_plan_version)
        if len(reads) == 1:
            # The dashboard approves the other draft now and commits: it takes 09:00.
            async with database.tap() as conn:
                other = await approval.approve(
                    conn,
                    piece_id=clicked.id,
                    version=1,
                    agent_id=agent.id,
                    default_timezone=NY,
                    now=NOW,
                )
            assert other.ok and other.scheduled[0].at == NINE_AM
        return ctx

    monkeypatch.setattr(repo, "schedule_context", read_then_lose_the_race)
    result = await _tap_approve(database, tapped.id, uid)

    assert result.ok and [p.at for p in result.scheduled] == [FIVE_PM]
    # The tap read three times: its own first read, the dashboard's, then its second.
    assert reads == [0, 0, 1]
    async with database.unit_of_work() as s:
        rows = await s.execute(select(PostSchedule.content_piece_id, PostSchedule.scheduled_at))
        slots = {piece: at for piece, at in rows.all()}
        logs = (await s.execute(select(func.count()).select_from(ApprovalLog))).scalar()
    assert slots == {clicked.id: NINE_AM, tapped.id: FIVE_PM}
    assert logs == 2  # the attempt that lost wrote no audit row


async def test_an_approval_that_keeps_losing_says_to_tap_again_and_changes_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        await make_account(s, agent, "facebook")
        piece = await make_piece(s, agent)
    uid = agent.telegram_user_id
    assert uid is not None
    read = repo.schedule_context
    reads = 0

    async def always_stale(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        ctx = await read(*args, **kwargs)
        return dataclasses.replace(ctx, slot_plan_version=ctx.slot_plan_version - 1)

    monkeypatch.setattr(repo, "schedule_context", always_stale)
    result = await _tap_approve(database, piece.id, uid)

    assert not result.ok and result.answer == approval._BUSY
    assert reads == approval._PLAN_ATTEMPTS
    async with database.unit_of_work() as s:
        status = (
            await s.execute(select(ContentPiece.status).where(ContentPiece.id == piece.id))
        ).scalar()
        posts = (await s.execute(select(func.count()).select_from(PostSchedule))).scalar()
        logs = (await s.execute(select(func.count()).select_from(ApprovalLog))).scalar()
    assert (status, posts, logs) == ("pending_approval_agent", 0, 0)
