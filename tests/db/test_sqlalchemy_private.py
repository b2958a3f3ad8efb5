"""db/sqlalchemy_private.py: the SQLAlchemy internals it relies on still exist and behave.

When one of these fails after a SQLAlchemy upgrade, only db/sqlalchemy_private.py changes.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, literal, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import Pool
from sqlalchemy.sql.compiler import SQLCompiler

SA = f"SQLAlchemy {sqlalchemy.__version__} (db/sqlalchemy_private.py was written for 2.1)"

_t = Table("t", MetaData(), Column("id", Integer), Column("name", String))


def test_the_private_names_exist() -> None:
    util = importlib.import_module("sqlalchemy.util")
    spawn = getattr(util, "greenlet_spawn", None)
    assert callable(spawn), f"{SA}: no sqlalchemy.util.greenlet_spawn"
    invalidate = getattr(Pool, "_invalidate", None)
    assert invalidate is not None, f"{SA}: no Pool._invalidate"
    params = inspect.signature(invalidate).parameters
    assert "_checkin" in params, f"{SA}: Pool._invalidate lost _checkin: {list(params)}"
    hints = inspect.get_annotations(SQLCompiler)
    for name in ("positiontup", "binds"):
        assert name in hints, f"{SA}: SQLCompiler no longer declares {name}"


def test_the_adapter_imports() -> None:
    try:
        importlib.import_module("db.sqlalchemy_private")
    except ImportError as exc:
        pytest.fail(f"{SA}: db/sqlalchemy_private.py cannot import: {exc}")


def test_positional_orders_parameters_and_keeps_fixed_values() -> None:
    from db.sqlalchemy_private import positional

    stmt = select(_t.c.id, literal("x").label("tag")).where(
        _t.c.name == bindparam("name"), _t.c.id > bindparam("low"), _t.c.id < 99
    )
    compiled = positional(stmt, asyncpg_dialect())
    assert compiled.sql.count("$") == 4, f"{SA}: {compiled.sql}"
    assert len(compiled.names) == 4, f"{SA}: positiontup changed: {compiled.names}"
    assert compiled.names[1:3] == ("name", "low"), f"{SA}: positiontup changed: {compiled.names}"
    fixed = {compiled.fixed[n] for n in compiled.names if n in compiled.fixed}
    assert fixed == {"x", 99}, f"{SA}: binds changed: {compiled.fixed}"
    assert "name" not in compiled.fixed and "low" not in compiled.fixed


def test_required_binds_names_what_each_call_gives_with_its_type() -> None:
    from db.sqlalchemy_private import required_binds

    stmt = select(_t.c.id, literal("x").label("tag")).where(
        _t.c.name == bindparam("name"), _t.c.id > bindparam("low"), _t.c.id < 99
    )
    types = required_binds(stmt, asyncpg_dialect())
    assert sorted(types) == ["low", "name"], f"{SA}: binds changed: {types}"
    assert isinstance(types["name"], String) and isinstance(types["low"], Integer), types


async def test_in_greenlet_runs_sync_code_that_awaits_the_driver(tmp_path: Path) -> None:
    from db.sqlalchemy_private import in_greenlet, invalidate_pooled

    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        first = await engine.raw_connection()
        driver = first.driver_connection
        # close() checks in, awaiting aiosqlite underneath: it only works in a greenlet.
        await in_greenlet(first.close)
        again = await engine.raw_connection()
        assert again.driver_connection is driver, "the pool should hand back the same one"
        await in_greenlet(again.close)

        invalidate_pooled(engine)
        fresh = await engine.raw_connection()
        assert fresh.driver_connection is not driver, f"{SA}: Pool._invalidate did nothing"
        await in_greenlet(fresh.close)
    finally:
        await engine.dispose()
