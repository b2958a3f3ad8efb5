"""PostgreSQL goes away under the running bot: a tap is still answered within seconds,
admins hear once per kind of failure, and service resumes by itself (PRODUCT.md §11).

The bot reaches PostgreSQL through a TCP proxy the test cuts (connections dropped, new
ones refused), freezes (a black hole) and restores; a restart is staged by terminating
the bot's backends with pg_terminate_backend.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.alerts import ALERT_WINDOW_S, THROTTLE_KEY, AlertThrottle
from bot.jobs.delivery_job import deliver_job
from db.driver import fetch_all
from db.models import ContentPiece
from db.session import TAP_DEADLINE_S, create_engine, create_sessionmaker
from services.context import Database
from tests.bot.conftest import ADMIN_ID, BotHarness, running_bot
from tests.factories import make_agent, make_piece
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram_api import FakeMessage, FakeUser

POOL = 5


@dataclass
class Outage:
    h: BotHarness
    proxy: TcpProxy
    clock: list[float]  # the alert throttle's time


@pytest.fixture
async def outage(backend: str, database: Database, tmp_path: Path) -> AsyncIterator[Outage]:
    if backend != "postgresql":
        pytest.skip("the outage is staged on PostgreSQL")
    url = database.engine.url
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        engine = create_engine(url.set(host="127.0.0.1", port=proxy.port), pool_size=POOL)
        proxied = Database(engine, create_sessionmaker(engine), database.cipher)
        try:
            async with running_bot(proxied, tmp_path) as h:
                clock = [1_000.0]
                h.app.bot_data[THROTTLE_KEY] = AlertThrottle(clock=lambda: clock[0])
                try:
                    yield Outage(h, proxy, clock)
                finally:
                    await proxy.cut()  # nothing left waiting on a frozen connection
        finally:
            await engine.dispose()


async def _drafts(o: Outage, tg: int, n: int) -> tuple[FakeUser, list[FakeMessage]]:
    """n drafts on the agent's phone, delivered through the proxy."""
    h = o.h
    user = h.fake.user(tg)
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=tg)
        for _ in range(n):
            await make_piece(s, agent)
    assert (await h.deliver()).sent == n
    return user, [m for m in user.messages if m.buttons]


async def _fill_pool(database: Database) -> None:
    """Every pooled connection open (taps come in bursts), so all of them are hit."""
    gate = asyncio.Event()

    async def hold() -> None:
        async with database.tap() as conn:
            await fetch_all(conn, select(text("1")), {})
            await gate.wait()

    holders = [asyncio.create_task(hold()) for _ in range(POOL)]
    await asyncio.sleep(0.3)
    gate.set()
    await asyncio.gather(*holders)


async def _tap(o: Outage, user: FakeUser, draft: FakeMessage, label: str) -> tuple[str, float]:
    started = time.monotonic()
    answer = await o.h.fake.wait_answer(await user.tap(draft.message_id, label), timeout=15)
    return answer.text or "", time.monotonic() - started


async def _statuses(o: Outage) -> list[str]:
    async with o.h.database.unit_of_work() as s:
        rows = await s.execute(select(ContentPiece.status).order_by(ContentPiece.created_at))
        return list(rows.scalars())


async def _deliver_runs(o: Outage, n: int) -> None:
    """n runs of the delivery job, as PTB's job queue runs it (errors go to the handler)."""
    jobs = o.h.app.job_queue
    assert jobs is not None
    for _ in range(n):
        job = jobs.run_once(deliver_job, when=3600, name="deliver")
        await job.run(o.h.app)
        job.schedule_removal()


def _alerts(admin: FakeUser) -> list[str]:
    return [m.content for m in admin.messages if "Bot error" in m.content]


async def test_cut_database_tap_answered_one_alert_then_recovery(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    o = outage
    admin = o.h.fake.user(ADMIN_ID)
    user, drafts = await _drafts(o, 7401, 3)
    await _fill_pool(o.h.database)

    await o.proxy.cut()
    answer, took = await _tap(o, user, drafts[0], "Approve")
    assert "try again in a moment" in answer.lower() and took < 3.0
    # Another button: its error reaches the error handler, which ends the spinner too.
    answer, took = await _tap(o, user, drafts[1], "Flyer")
    assert "try again in a moment" in answer.lower() and took < 3.0

    caplog.clear()
    await _deliver_runs(o, 6)  # every run fails; the admins hear once of each kind
    assert [r.getMessage() for r in caplog.records].count("unhandled error") == 6
    assert [a.split(": ")[1] for a in _alerts(admin)] == ["ConnectionRefusedError"] * 2
    assert "Bot error" in _alerts(admin)[0]
    o.clock[0] += ALERT_WINDOW_S + 1  # a quarter of an hour later, still down: once more
    await _deliver_runs(o, 2)
    assert len(_alerts(admin)) == 3

    await o.proxy.restore()
    for draft in drafts:  # every tap works at the first try, on fresh connections
        answer, _ = await _tap(o, user, draft, "Approve")
        assert "Approved" in answer, answer
    assert await _statuses(o) == ["approved_for_posting"] * 3
    await _deliver_runs(o, 1)
    assert len(_alerts(admin)) == 3


async def test_black_hole_tap_answered_within_the_deadline(outage: Outage) -> None:
    o = outage
    user, drafts = await _drafts(o, 7402, 2)
    await _fill_pool(o.h.database)

    await o.proxy.freeze()  # statements go out and nothing ever comes back
    answer, took = await _tap(o, user, drafts[0], "Approve")
    assert "try again in a moment" in answer.lower()
    assert TAP_DEADLINE_S - 0.5 < took < TAP_DEADLINE_S + 3.0

    await o.proxy.restore()
    # The pool was renewed at the first failure: no other tap waits on a dead connection.
    for draft in drafts:
        answer, took = await _tap(o, user, draft, "Reject")
        assert "Rejected" in answer and took < 3.0, answer
    assert await _statuses(o) == ["rejected", "rejected"]


async def test_taps_after_a_server_restart_work_at_the_first_try(outage: Outage) -> None:
    o = outage
    admin = o.h.fake.user(ADMIN_ID)
    user, drafts = await _drafts(o, 7403, POOL)
    await _fill_pool(o.h.database)

    ports = o.proxy.upstream_ports()
    assert len(ports) >= POOL
    admin_engine = create_engine(o.h.database.engine.url.set(port=5432), null_pool=True)
    try:
        async with admin_engine.connect() as conn:
            killed = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE client_port = ANY(:ports)"
                ),
                {"ports": ports},
            )
            assert all(ok for (ok,) in killed)
    finally:
        await admin_engine.dispose()
    await asyncio.sleep(0.2)  # the server's goodbye reaches the bot's connections

    for draft in drafts:
        answer, _ = await _tap(o, user, draft, "Approve")
        assert "Approved" in answer, answer
    assert await _statuses(o) == ["approved_for_posting"] * POOL
    await _deliver_runs(o, 1)  # the jobs' path recovers as well
    assert _alerts(admin) == []
