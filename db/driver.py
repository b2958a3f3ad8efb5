"""Run a few hot Core statements straight on asyncpg: the statements of a button tap.

SQLAlchemy's execute path (compiled-cache lookup, parameter and result processing, the
greenlet hop, cursor wrapping) costs more CPU than the round trip itself, and a tap is
all round trip: bench/approval.py measured it as most of the bot's own cost per tap. So
each statement given here is compiled once to asyncpg's SQL and run on the pooled
connection's asyncpg driver.

Only on an autocommit PostgreSQL connection (`db.session.tap_connection`). Elsewhere the
statement runs through SQLAlchemy as usual: inside a SQLAlchemy transaction the asyncpg
adapter sends BEGIN lazily, on its first statement, and bypassing it could run a write
outside the transaction.

The statements must be fully static: no expanding IN lists (use `any_of`), no values
that need SQLAlchemy's bind processing beyond what asyncpg does natively (UUIDs, aware
datetimes, strings, numbers, lists of those). Results are rows indexed by position.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

Row = Sequence[Any]
# Called with (sql, args) before each statement run here, in the caller's task. These
# statements skip SQLAlchemy's events, so this is how a benchmark or a test sees them.
StatementObserver = Callable[[str, Sequence[Any]], None]
observers: list[StatementObserver] = []


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]


# Keyed by id(): the statements passed here are module-level or functools.cache'd, so they
# live as long as the process; the entry keeps a reference so an id is never reused.
_compiled: dict[int, tuple[Executable, _Compiled]] = {}
_lock = threading.Lock()


def any_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (values)` for a fixed list, rendered without SQLAlchemy's expanding
    parameters (which asyncpg cannot take as they are)."""
    if len(values) == 1:
        return column == values[0]  # type: ignore[no-any-return]
    return or_(*(column == value for value in values))


def _compile(stmt: Executable, dialect: Dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
    sql = str(compiled.string)
    if "POSTCOMPILE" in sql:
        raise ValueError("statement has an expanding IN; use db.driver.any_of")
    names = tuple(compiled.positiontup or ())
    # Values fixed in the statement itself (literals, constant lists); the others must
    # come with each call, as SQLAlchemy would insist.
    fixed = {
        name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
    }
    return _Compiled(sql, names, fixed)


def _compiled_for(stmt: Executable, dialect: Dialect) -> _Compiled:
    found = _compiled.get(id(stmt))
    if found is not None and found[0] is stmt:
        return found[1]
    compiled = _compile(stmt, dialect)
    with _lock:
        _compiled[id(stmt)] = (stmt, compiled)
    return compiled


def is_autocommit_postgresql(conn: AsyncConnection) -> bool:
    """Whether `conn` is a PostgreSQL connection where each statement commits by itself."""
    return (
        conn.dialect.name == "postgresql"
        and conn.sync_connection is not None
        and conn.sync_connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    )


async def fetch_all(
    conn: AsyncConnection, stmt: Executable, params: Mapping[str, Any]
) -> Sequence[Row]:
    """All rows of `stmt` run with `params`: on asyncpg directly when `conn` is an
    autocommit PostgreSQL connection, else through SQLAlchemy."""
    if not is_autocommit_postgresql(conn):
        return (await conn.execute(stmt, dict(params))).all()
    compiled = _compiled_for(stmt, conn.dialect)
    fixed = compiled.fixed
    args = [params[name] if name in params else fixed[name] for name in compiled.names]
    for observe in observers:
        observe(compiled.sql, args)
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    rows: Sequence[Row] = await driver.fetch(compiled.sql, *args)
    return rows
