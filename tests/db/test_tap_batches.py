"""db.tap_batches: calls that wait for a busy database go as one statement (PostgreSQL).

Each call in a batch keeps its own guards and gets its own rows; a batch PostgreSQL
refuses runs again call by call, so one tap's error is never another's. The tests keep
one lane and hold the first statement at the server's door, so that the calls behind
it queue up as they would behind a busy database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import BigInteger, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from db import driver, tap_batches
from db.models import Agent, ApprovalLog, ContentPiece, PostSchedule
from db.repositories import transitions
from db.repositories.transitions import Request, Transition, Transitioned
from services import approval
from services import status_machine as machine
from services.context import Database
from tests.factories import make_account, make_agent, make_piece

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
T = TypeVar("T")

NY = "America/New_York"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 07:00 in New York
NINE_AM = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)

_agents: Table = Agent.__table__  # type: ignore[assignment]
_BY_UID = select(_agents.c.name).where(_agents.c.telegram_user_id == bindparam("uid"))
# Its batched form, as db.driver.BatchForm describes: arrays in, the call's number out.
_calls = (
    func.unnest(bindparam("r_uid", type_=postgresql.ARRAY(BigInteger())))
    .table_valued("uid", with_ordinality="n")
    .render_derived()
)
_BY_UIDS = driver.BatchForm(
    select(_agents.c.name, _calls.c.n)
    .select_from(_calls.join(_agents, _agents.c.telegram_user_id == _calls.c.uid))
    .order_by(_calls.c.n, _agents.c.name)
)


@dataclass
class Sent:
    """The statements the batcher sent to PostgreSQL (not the calls made to it)."""

    sql: list[str]
    # While clear, the first statement starting with `held` waits at the server's door.
    door: asyncio.Event
    held: str = ""

    async def queued_behind_the_first(self, held: str, *calls: Awaitable[T]) -> list[T]:
        """Run `calls` together; the first statement starting with `held` keeps the one
        lane until the calls behind it have queued."""
        self.held = held
        self.door.clear()
        running = asyncio.gather(*calls)
        await asyncio.sleep(0.2)
        self.door.set()
        return await running


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    got = Sent([], asyncio.Event())
    got.door.set()
    real = tap_batches.driver_connection
    monkeypatch.setattr(tap_batches, "LANES", 1)

    class Recording:
        def __init__(self, conn: Any) -> None:
            self._conn = conn

        async def fetch(self, sql: str, *args: Any) -> Any:
            got.sql.append(sql)
            if sql.startswith(got.held):
                await got.door.wait()
            return await self._conn.fetch(sql, *args)

    @asynccontextmanager
    async def recording(engine: AsyncEngine) -> AsyncIterator[driver.DriverConnection]:
        async with real(engine) as conn:
            yield driver.DriverConnection(conn.dialect, Recording(conn.driver))

    monkeypatch.setattr(tap_batches, "driver_connection", recording)
    yield got


async def _approve(database: Database, piece: uuid.UUID, uid: int) -> approval.TapResult:
    async with database.tap() as conn:
        return await approval.approve(
            conn, piece_id=piece, version=1, telegram_user_id=uid, default_timezone=NY, now=NOW
        )


async def test_approvals_behind_a_busy_lane_share_their_read_and_their_write(
    database: Database, sent: Sent
) -> None:
    agents, pieces = [], []
    async with database.unit_of_work() as s:
        for n in range(6):
            agent = await make_agent(s, telegram_user_id=61_000 + n)
            await make_account(s, agent, "facebook")
            agents.append(agent)
            pieces.append(await make_piece(s, agent))

    results = await sent.queued_behind_the_first(
        "SELECT", *(_approve(database, p.id, 61_000 + n) for n, p in enumerate(pieces))
    )

    assert [r.ok for r in results] == [True] * 6
    assert [[post.at for post in r.scheduled] for r in results] == [[NINE_AM]] * 6
    # The first read alone, the five queued behind it as one. The first tap then writes
    # alone; of the five, one may find the lane free, and the others write together.
    reads = [sql for sql in sent.sql if sql.startswith("SELECT")]
    writes = [sql for sql in sent.sql if sql.startswith("WITH")]
    assert ["ORDINALITY" in sql for sql in reads] == [False, True]
    assert 2 <= len(writes) <= 3 and "ORDINALITY" in writes[-1]
    async with database.unit_of_work() as s:
        posts = (await s.execute(select(PostSchedule.content_piece_id))).scalars().all()
        logs = (await s.execute(select(ApprovalLog.content_piece_id))).scalars().all()
        statuses = set((await s.execute(select(ContentPiece.status))).scalars().all())
    assert sorted(posts) == sorted(logs) == sorted(p.id for p in pieces)
    assert statuses == {"approved_for_posting"}


def _approval(piece: ContentPiece, uid: int, account: uuid.UUID) -> Request:
    return Request(
        piece.id,
        version=1,
        telegram_user_id=uid,
        values={"last_approved_at": NOW},
        schedule=((account, NINE_AM),),
        now=NOW,
        slot_plan_version=0,
    )


async def _apply(database: Database, t: Transition, req: Request) -> Transitioned | None:
    async with database.tap() as conn:
        return await transitions.apply(conn, t, req)


async def test_a_call_in_a_batch_acts_only_as_its_own_agent(database: Database, sent: Sent) -> None:
    async with database.unit_of_work() as s:
        ann, bo, cy = [await make_agent(s, telegram_user_id=62_000 + n) for n in range(3)]
        accounts = [(await make_account(s, a, "facebook")).id for a in (ann, bo, cy)]
        bos, bos_other = await make_piece(s, bo), await make_piece(s, bo)
        cys = await make_piece(s, cy)

    # Behind Cy's approval, Ann approves Bo's draft (a forwarded message) onto her own
    # page, and Bo approves his other draft: the two go as one statement.
    first, intruder, owner = await sent.queued_behind_the_first(
        "WITH",
        _apply(database, machine.APPROVE, _approval(cys, 62_002, accounts[2])),
        _apply(database, machine.APPROVE, _approval(bos, 62_000, accounts[0])),
        _apply(database, machine.APPROVE, _approval(bos_other, 62_001, accounts[1])),
    )

    assert ["ORDINALITY" in sql for sql in sent.sql] == [False, True]
    assert first is not None and intruder is None and owner is not None
    assert (owner.piece_id, owner.posts) == (bos_other.id, 1)
    async with database.unit_of_work() as s:
        status = dict((await s.execute(select(ContentPiece.id, ContentPiece.status))).all())
        posts = (await s.execute(select(PostSchedule.content_piece_id))).scalars().all()
        logs = (await s.execute(select(ApprovalLog.content_piece_id))).scalars().all()
    assert status[bos.id] == "pending_approval_agent"
    assert status[bos_other.id] == status[cys.id] == "approved_for_posting"
    assert sorted(posts) == sorted(logs) == sorted([bos_other.id, cys.id])


async def test_two_approvals_of_one_agent_in_a_batch_plan_slots_once(
    database: Database, sent: Sent
) -> None:
    async with database.unit_of_work() as s:
        agent, other = await make_agent(s, telegram_user_id=62_101), await make_agent(s)
        account = (await make_account(s, agent, "facebook")).id
        other_account = (await make_account(s, other, "facebook")).id
        first = await make_piece(s, other)
        one, two = await make_piece(s, agent), await make_piece(s, agent)
    assert other.telegram_user_id is not None

    # Both read slot_plan_version 0 and planned 09:00 (in this process the agent's taps
    # take turns, so only other processes get here; the statement must hold anyway).
    _, *results = await sent.queued_behind_the_first(
        "WITH",
        _apply(database, machine.APPROVE, _approval(first, other.telegram_user_id, other_account)),
        _apply(database, machine.APPROVE, _approval(one, 62_101, account)),
        _apply(database, machine.APPROVE, _approval(two, 62_101, account)),
    )

    assert ["ORDINALITY" in sql for sql in sent.sql] == [False, True]
    assert [r is not None for r in results].count(True) == 1
    async with database.unit_of_work() as s:
        version = await s.scalar(select(Agent.slot_plan_version).where(Agent.id == agent.id))
        posts = (
            (
                await s.execute(
                    select(PostSchedule.content_piece_id).where(
                        PostSchedule.social_media_account_id == account
                    )
                )
            )
            .scalars()
            .all()
        )
    assert version == 1 and len(posts) == 1


async def test_the_same_draft_twice_in_one_batch_moves_once(database: Database, sent: Sent) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=63_001)
        first, piece = await make_piece(s, agent), await make_piece(s, agent)

    def reject(p: ContentPiece) -> Awaitable[Transitioned | None]:
        req = Request(p.id, version=1, telegram_user_id=63_001, now=NOW)
        return _apply(database, machine.REJECT, req)

    results = await sent.queued_behind_the_first(
        "WITH", reject(first), reject(piece), reject(piece), reject(piece)
    )

    assert ["ORDINALITY" in sql for sql in sent.sql] == [False, True]
    assert [r is not None for r in results].count(True) == 2
    async with database.unit_of_work() as s:
        logs = (await s.execute(select(ApprovalLog.content_piece_id))).scalars().all()
    assert sorted(logs) == sorted([first.id, piece.id])


async def test_each_call_gets_its_own_rows_and_a_refused_batch_runs_call_by_call(
    database: Database, sent: Sent
) -> None:
    async with database.unit_of_work() as s:
        await make_agent(s, name="Ann Lee", telegram_user_id=64_001)
        await make_agent(s, name="Bo Diaz", telegram_user_id=64_002)

    async def names(uid: Any) -> list[str]:
        async with database.tap() as conn:
            rows = await driver.fetch_all(conn, _BY_UID, {"uid": uid}, _BY_UIDS)
        return [str(r[0]) for r in rows]

    assert await sent.queued_behind_the_first(
        "SELECT", names(64_001), names(64_002), names(64_404), names(64_001)
    ) == [["Ann Lee"], ["Bo Diaz"], [], ["Ann Lee"]]
    assert ["ORDINALITY" in sql for sql in sent.sql] == [False, True]

    # One value asyncpg cannot encode spoils the batch: the others still get their rows.
    sent.sql.clear()

    async def tolerant(uid: Any) -> list[str] | Exception:
        try:
            return await names(uid)
        except Exception as exc:
            return exc

    first, ann, bad, bo = await sent.queued_behind_the_first(
        "SELECT", tolerant(64_001), tolerant(64_001), tolerant("not a number"), tolerant(64_002)
    )
    assert (first, ann, bo) == (["Ann Lee"], ["Ann Lee"], ["Bo Diaz"])
    assert isinstance(bad, (asyncpg.DataError, asyncpg.PostgresError))
    # The batch was tried (and refused before it reached the server), then one per call.
    assert ["ORDINALITY" in sql for sql in sent.sql] == [False, True, False, False, False]


async def test_a_call_that_finds_a_free_lane_runs_the_single_statement(
    database: Database, sent: Sent
) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=65_001)
        await make_account(s, agent, "facebook")
        piece = await make_piece(s, agent)

    result = await _approve(database, piece.id, 65_001)

    assert result.ok
    assert len(sent.sql) == 2 and not any("ORDINALITY" in sql for sql in sent.sql)
