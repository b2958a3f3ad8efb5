"""A button tap's statements, straight on asyncpg.

SQLAlchemy's execute path (compiled-cache lookup, parameter and result processing, the
greenlet hop, cursor wrapping) and its AsyncConnection (checkout, execution options, a
shielded close task) cost more CPU than the round trips themselves, and a tap is all
round trips: bench/approval.py measured them as most of the bot's own cost per tap. So
on PostgreSQL a tap borrows a pooled connection from SQLAlchemy's pool and runs each
statement given here, compiled once, on the connection's asyncpg driver.

No transaction is open there: each statement commits by itself, which is why every write
in `db.repositories.transitions` is a single statement on PostgreSQL. Given a SQLAlchemy
`AsyncConnection` instead (SQLite, or a connection inside a unit of work), `fetch_all`
runs the statement through SQLAlchemy as usual; given a tap's executor
(`db.tap_batches`), the statement may go together with other taps' calls.

The statements must be fully static: no expanding IN lists (use `any_of`), no values
that need SQLAlchemy's bind processing beyond what asyncpg does natively (UUIDs, aware
datetimes, strings, numbers, lists of those). Results are rows indexed by position.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, bindparam, func, or_
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from db.sqlalchemy_private import PositionalStatement, in_greenlet, positional, required_binds

Row = Sequence[Any]
# Called with (sql, args) before each statement run here, in the caller's task. These
# statements skip SQLAlchemy's events, so this is how a benchmark or a test sees them.
StatementObserver = Callable[[str, Sequence[Any]], None]
observers: list[StatementObserver] = []


@dataclass(frozen=True)
class DriverConnection:
    """A pooled PostgreSQL connection used through asyncpg: each statement commits alone."""

    dialect: Dialect
    driver: Any  # asyncpg.Connection


@dataclass(frozen=True)
class BatchForm:
    """How one statement runs for several taps at once (see db.tap_batches).

    `stmt` is the statement's batched form: each per-call parameter `x` of the single
    form arrives as the array `r_x` (unnested WITH ORDINALITY as the calls' table, see
    `calls_table`), and each list-valued parameter named in `lists` arrives flattened
    under its own name, with the array `rl_n` saying which call (1-based) each element
    belongs to. Its rows are the single form's rows with the call's number as one more,
    last column.
    """

    stmt: Executable
    lists: tuple[str, ...] = ()


def calls_table(single: Executable, dialect: Dialect, lists: tuple[str, ...] = ()) -> Any:
    """The calls of `single`'s batched form: `unnest(r_x, …) WITH ORDINALITY AS (x, …, n)`,
    one column per parameter a call of `single` gives (except `lists`), one row per call."""
    types = required_binds(single, dialect)
    names = sorted(name for name in types if name not in lists)
    arrays = [bindparam(f"r_{name}", type_=postgresql.ARRAY(types[name])) for name in names]
    return func.unnest(*arrays).table_valued(*names, with_ordinality="n").render_derived()


def per_call(calls: Any, name: str, type_: Any = None) -> Any:
    """A per-call value in a statement: the bound parameter `name`, or, when building a
    batched form, that column of its `calls_table`."""
    if calls is None:
        return bindparam(name, type_=type_)
    return calls.c[name]


class Batching(Protocol):
    """An executor that may run a statement together with other taps' (db.tap_batches)."""

    dialect: Dialect

    async def fetch_all(
        self, stmt: Executable, params: Mapping[str, Any], batch: BatchForm | None
    ) -> Sequence[Row]:
        """All rows of `stmt` for these `params`."""


# Every kind of connection a tap's statements accept.
Executor = AsyncConnection | DriverConnection | Batching

# Keyed by id(): the statements passed here are module-level or functools.cache'd, so they
# live as long as the process; the entry keeps a reference so an id is never reused. The
# bound keeps a caller that builds a new statement per call from growing it forever.
_compiled: dict[int, tuple[Executable, PositionalStatement]] = {}
_MAX_COMPILED = 256


def any_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (values)` for a fixed list, rendered without SQLAlchemy's expanding
    parameters (which asyncpg cannot take as they are)."""
    if len(values) == 1:
        return column == values[0]  # type: ignore[no-any-return]
    return or_(*(column == value for value in values))


def _compile(stmt: Executable, dialect: Dialect) -> PositionalStatement:
    compiled = positional(stmt, dialect)
    if "POSTCOMPILE" in compiled.sql:
        raise ValueError("statement has an expanding IN; use db.driver.any_of")
    return compiled


def compiled_for(stmt: Executable, dialect: Dialect) -> PositionalStatement:
    """`stmt` compiled once for asyncpg (cached for statements that live for good)."""
    found = _compiled.get(id(stmt))
    if found is not None and found[0] is stmt:
        return found[1]
    compiled = _compile(stmt, dialect)
    if len(_compiled) < _MAX_COMPILED:
        _compiled[id(stmt)] = (stmt, compiled)
    return compiled


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[DriverConnection]:
    """Borrow a connection from `engine`'s pool (PostgreSQL) for asyncpg-level use."""
    proxied = await engine.raw_connection()
    driver = proxied.driver_connection
    try:
        yield DriverConnection(engine.dialect, driver)
    except BaseException as exc:
        # SQLAlchemy never saw these statements, so it cannot judge what state a failure
        # left the connection in: broken, cancelled midway, or (after a parameter asyncpg
        # could not encode) still inside the half-sent query, holding its table locks
        # until the next command. Errors are rare on this path (a refused tap is no
        # error), so the connection is discarded rather than handed to the next tap.
        proxied.invalidate(exc if isinstance(exc, Exception) else None)
        # Return it even if this task is cancelled again meanwhile.
        await asyncio.shield(in_greenlet(proxied.close))
        raise
    # The check-in never waits on the network (nothing to roll back), so it cannot be
    # interrupted half-way; no shielded task needed on the common path.
    await in_greenlet(proxied.close)


def statement_args(
    stmt: Executable, dialect: Dialect, params: Mapping[str, Any]
) -> tuple[str, list[Any]]:
    """`stmt`'s SQL for asyncpg and its positional arguments; tells the observers."""
    compiled = compiled_for(stmt, dialect)
    fixed = compiled.fixed
    args = [params[name] if name in params else fixed[name] for name in compiled.names]
    for observe in observers:
        observe(compiled.sql, args)
    return compiled.sql, args


async def fetch_all(
    conn: Executor,
    stmt: Executable,
    params: Mapping[str, Any],
    batch: BatchForm | None = None,
) -> Sequence[Row]:
    """All rows of `stmt` run with `params`: on asyncpg for a `DriverConnection`, through
    SQLAlchemy for an `AsyncConnection`, together with other taps' calls where `batch`
    says how for a batching executor."""
    if isinstance(conn, AsyncConnection):
        return (await conn.execute(stmt, dict(params))).all()
    if not isinstance(conn, DriverConnection):
        return await conn.fetch_all(stmt, params, batch)
    sql, args = statement_args(stmt, conn.dialect, params)
    rows: Sequence[Row] = await conn.driver.fetch(sql, *args)
    return rows
