"""db.tap_lane: a tap done with its connection hands it to the next tap waiting, safely."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.driver import fetch_all
from db.errors import DatabaseUnavailableError
from db.session import create_engine, tap_connection
from db.tap_lane import tap_lane

_PID = select(text("pg_backend_pid()"))


@pytest.fixture
async def small_pool(backend: str, migrated_url: str) -> AsyncIterator[AsyncEngine]:
    if backend != "postgresql":
        pytest.skip("SQLite taps take turns on one connection; there is no pool to queue for")
    engine = create_engine(migrated_url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


def _count_checkouts(engine: AsyncEngine) -> list[int]:
    count = [0]

    def checkout(*_: object) -> None:
        count[0] += 1

    event.listen(engine.sync_engine, "checkout", checkout)
    return count


async def _tap(engine: AsyncEngine, hold: asyncio.Event | None = None) -> int:
    async with tap_connection(engine) as conn:
        if hold is not None:
            await hold.wait()
        rows = await fetch_all(conn, _PID, {})
    return int(rows[0][0])


async def test_waiting_taps_get_the_connections_of_those_done_without_the_pool(
    small_pool: AsyncEngine,
) -> None:
    checkouts = _count_checkouts(small_pool)
    gate = asyncio.Event()
    first = [asyncio.create_task(_tap(small_pool, gate)) for _ in range(2)]
    await asyncio.sleep(0.05)
    waiting = [asyncio.create_task(_tap(small_pool)) for _ in range(6)]
    await asyncio.sleep(0.05)
    lane = tap_lane(small_pool)
    assert lane is not None and lane.holding == 2  # no more taps hold one than the pool has
    assert checkouts[0] == 2
    gate.set()
    pids = await asyncio.gather(*first, *waiting)
    # Eight taps on the pool's two connections, taken from the pool twice in all.
    assert len(set(pids)) == 2
    assert checkouts[0] == 2
    assert lane.holding == 0
    assert small_pool.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_failed_tap_hands_on_its_place_not_its_connection(
    small_pool: AsyncEngine,
) -> None:
    gate, fail = asyncio.Event(), asyncio.Event()
    seen: list[int] = []

    async def failing() -> None:
        async with tap_connection(small_pool) as conn:
            seen.append(int((await fetch_all(conn, _PID, {}))[0][0]))
            await fail.wait()
            raise ValueError("the tap's own bug")

    holder = asyncio.create_task(_tap(small_pool, gate))
    failed = asyncio.create_task(failing())
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(_tap(small_pool))  # in line: both places are taken
    await asyncio.sleep(0.05)
    fail.set()
    with pytest.raises(ValueError):
        await failed
    # The failed tap's connection was closed for good: the next in line got a new one.
    assert await waiter != seen[0]
    gate.set()
    await holder
    lane = tap_lane(small_pool)
    assert lane is not None and lane.holding == 0
    assert small_pool.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_tap_that_gives_up_waiting_leaks_no_place(small_pool: AsyncEngine) -> None:
    gate = asyncio.Event()
    holders = [asyncio.create_task(_tap(small_pool, gate)) for _ in range(2)]
    await asyncio.sleep(0.05)

    async def impatient() -> None:
        async with tap_connection(small_pool, deadline_s=0.1):
            pass

    with pytest.raises(DatabaseUnavailableError):
        await impatient()
    gate.set()
    await asyncio.gather(*holders)
    lane = tap_lane(small_pool)
    assert lane is not None and lane.holding == 0
    # Both places are free again: two taps can hold a connection at once.
    both = asyncio.Event()
    pair = [asyncio.create_task(_tap(small_pool, both)) for _ in range(2)]
    await asyncio.sleep(0.05)
    assert lane.holding == 2
    both.set()
    assert len(set(await asyncio.gather(*pair))) == 2


async def test_a_connection_the_server_closed_is_replaced_not_handed_on(
    small_pool: AsyncEngine, migrated_url: str
) -> None:
    gate = asyncio.Event()
    holder_pids: list[int] = []

    async def holder() -> None:
        async with tap_connection(small_pool) as conn:
            holder_pids.append(int((await fetch_all(conn, _PID, {}))[0][0]))
            await gate.wait()

    holders = [asyncio.create_task(holder()) for _ in range(2)]
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(_tap(small_pool))
    await asyncio.sleep(0.05)
    # The server ends both held connections' backends (a restart, an admin's kill).
    admin = create_engine(migrated_url, null_pool=True)
    try:
        async with admin.connect() as c:
            for pid in holder_pids:
                await c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)  # asyncpg notices the close as it happens
    gate.set()
    await asyncio.gather(*holders)  # they ran no statement after the cut: no error
    pid = await waiter
    assert pid not in holder_pids  # it got a fresh connection, and its query ran
