"""db.driver: hot statements straight on asyncpg, only where that is safe."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Table, bindparam, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from db import driver
from db.models import Agent
from db.session import tap_connection
from services.context import Database
from tests.factories import make_agent

_agents: Table = Agent.__table__  # type: ignore[assignment]
_BY_NAME = select(_agents.c.id, _agents.c.name, _agents.c.created_at).where(
    driver.any_of(_agents.c.name, ["Ann Lee", "Bo Diaz"]),
    _agents.c.telegram_user_id >= bindparam("min_uid"),
)


@pytest.fixture
def seen() -> Iterator[list[str]]:
    """The SQL of every statement db.driver ran on asyncpg during the test."""
    got: list[str] = []

    def observe(sql: str, args: Sequence[Any]) -> None:
        got.append(sql)

    driver.observers.append(observe)
    try:
        yield got
    finally:
        driver.observers.remove(observe)


async def test_tap_connection_runs_on_the_driver_only_on_postgresql(
    database: Database, seen: list[str]
) -> None:
    async with database.unit_of_work() as s:
        ann = await make_agent(s, name="Ann Lee", telegram_user_id=5001)
        await make_agent(s, name="Bo Diaz", telegram_user_id=5002)
        await make_agent(s, name="Cy Ng", telegram_user_id=5003)
    async with database.tap() as conn:
        rows = await driver.fetch_all(conn, _BY_NAME, {"min_uid": 5001})
    assert sorted(str(r[1]) for r in rows) == ["Ann Lee", "Bo Diaz"]
    by_name = {str(r[1]): r for r in rows}
    # asyncpg's own types behave like SQLAlchemy's: UUIDs compare equal, times are aware.
    assert by_name["Ann Lee"][0] == ann.id
    assert by_name["Ann Lee"][2].tzinfo is not None
    postgres = database.engine.dialect.name == "postgresql"
    assert len(seen) == (1 if postgres else 0)


async def test_inside_a_transaction_sqlalchemy_runs_it(database: Database, seen: list[str]) -> None:
    async with database.unit_of_work() as s:
        await make_agent(s, name="Ann Lee", telegram_user_id=5101)
        conn = await s.connection()
        rows = await driver.fetch_all(conn, _BY_NAME, {"min_uid": 5101})
    assert [str(r[1]) for r in rows] == ["Ann Lee"]
    assert seen == []


async def test_a_missing_parameter_is_an_error(engine: AsyncEngine) -> None:
    async with tap_connection(engine) as conn:
        with pytest.raises((KeyError, StatementError)) as caught:
            await driver.fetch_all(conn, _BY_NAME, {})
    assert "min_uid" in str(caught.value)


async def test_an_expanding_in_list_is_refused(engine: AsyncEngine) -> None:
    stmt = select(_agents.c.id).where(_agents.c.name.in_(["a", "b"]))
    async with tap_connection(engine) as conn:
        if engine.dialect.name != "postgresql":
            pytest.skip("SQLite runs every statement through SQLAlchemy")
        with pytest.raises(ValueError, match="any_of"):
            await driver.fetch_all(conn, stmt, {})


def test_any_of_renders_plain_comparisons() -> None:
    one = driver.any_of(_agents.c.name, ["x"])
    two = driver.any_of(_agents.c.name, ["x", "y"])
    assert "POSTCOMPILE" not in str(one.compile()) and " = " in str(one.compile())
    assert str(two.compile()).count(" OR ") == 1


async def test_a_broken_connection_is_not_handed_to_the_next_tap(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite taps go through SQLAlchemy, which handles this itself")
    async with database.unit_of_work() as s:
        await make_agent(s, name="Ann Lee", telegram_user_id=5201)
    broken = None
    with pytest.raises(asyncpg.InterfaceError):
        async with driver.driver_connection(database.engine) as conn:
            broken = conn.driver
            await broken.close()  # as if the server went away mid-statement
            await driver.fetch_all(conn, _BY_NAME, {"min_uid": 5201})
    # every later user gets a working connection: go round every idle one in the pool
    pool = database.engine.sync_engine.pool
    for _ in range(pool.checkedin() + 1):  # type: ignore[attr-defined]
        async with driver.driver_connection(database.engine) as conn:
            assert conn.driver is not broken
            rows = await driver.fetch_all(conn, _BY_NAME, {"min_uid": 5201})
        assert [str(r[1]) for r in rows] == ["Ann Lee"]
        # and a tap, whose statements run on these connections, too
        async with database.tap() as tap:
            assert [str(r[1]) for r in await driver.fetch_all(tap, _BY_NAME, {"min_uid": 5201})]


async def test_a_failed_statement_leaves_no_connection_holding_locks(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite taps go through SQLAlchemy")
    bad = select(_agents.c.id).where(_agents.c.telegram_user_id == bindparam("uid"))
    with pytest.raises(asyncpg.PostgresError):
        async with database.tap() as conn:
            # asyncpg cannot encode this. On a connection the earlier tests (tests/bot, run
            # first) had used, it left the query half-sent, holding its lock: with the
            # connection kept, the LOCK below fails in the full suite (alone it may pass).
            await driver.fetch_all(conn, bad, {"uid": "not a number"})
    async with database.engine.begin() as check:
        # A lock left by a half-sent query is held until its connection closes, which
        # nothing would do: waiting seconds for it fails as surely as NOWAIT, without
        # failing on a lock some other test's leftover task holds for a moment.
        await check.execute(text("SET LOCAL lock_timeout = '3s'"))
        await check.execute(text(f"LOCK TABLE {_agents.name} IN ACCESS EXCLUSIVE MODE"))
