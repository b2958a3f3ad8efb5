"""Concurrent taps' statements, sent to PostgreSQL together when the database is busy.

Under load the bot's one event loop is the ceiling, and a round trip costs it more than
the work the statement asks for: the socket write (which, on a shared machine, is also
where the kernel hands the CPU to the database), the wake-up for the answer, asyncpg's
protocol code. So a statement that has a batched form (`db.driver.BatchForm`) runs at
once while fewer than `LANES` of its kind are out; otherwise it waits, with every other
call of its kind that arrives meanwhile, for the next lane to come back, and they all go
as ONE statement: the batched form takes each parameter as an array and tags each row
with the call it belongs to. When the database keeps up, nothing waits and each call is
sent alone as before; the busier it gets, the more each round trip carries (group commit).

A batched statement is atomic like the single ones (no transaction is open; each tap's
write is one statement), and each call in it keeps its own guards: it is the same
compare-and-set per row. If PostgreSQL refuses a batch (a deadlock with another process,
a constraint), nothing of it was written, and each call runs again alone, so one tap's
error never becomes another's. A lost connection is reported to every call, as it
would be to each alone.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from db.driver import (
    BatchForm,
    DriverConnection,
    Row,
    compiled_for,
    driver_connection,
    statement_args,
)
from db.errors import is_unavailable


@dataclass
class _Call:
    params: Mapping[str, Any]
    sql: str
    args: list[Any]
    done: asyncio.Future[Sequence[Row]]


@dataclass
class _Group:
    batch: BatchForm
    calls: list[_Call] = field(default_factory=list)


# Statements of one kind out at once before the next ones wait to go together. Waiting
# costs the waiting calls a few loop turns, which shows in the tail when the loop is busy:
# with 6, at PRODUCT.md §7's steady 200 taps/s no call waits (the path is the unbatched
# one), while at the ceiling (64 users tapping back to back) about 60 % of the calls wait
# and go 12 or 13 to a statement. With 2, calls waited at 200/s too and the bench's steady
# p99 rose above 50 ms on a slow machine; 8 batched too little to matter.
LANES = 6


class TapBatcher:
    """Taps' statements on PostgreSQL: each kind runs at once while a lane is free, and
    the calls that arrive while none is go together when one comes back."""

    def __init__(self, engine: AsyncEngine, deadline_s: float) -> None:
        self._engine = engine
        self.dialect: Dialect = engine.dialect
        self._deadline_s = deadline_s
        self._out: dict[int, int] = {}
        self._waiting: dict[int, _Group] = {}
        self._running: set[asyncio.Task[None]] = set()
        # Calls sent alone, calls that waited for a lane, and the statements those went in.
        self.counts = {"alone": 0, "waited": 0, "batches": 0}

    @asynccontextmanager
    async def tap(self) -> AsyncIterator[TapExecutor]:
        """One tap's executor; the connection it took (if any) goes back at the end."""
        executor = TapExecutor(self)
        try:
            yield executor
        except BaseException as exc:
            await executor.release(exc)
            raise
        await executor.release(None)

    async def fetch_all(
        self, stmt: Executable, params: Mapping[str, Any], batch: BatchForm | None, tap: TapExecutor
    ) -> Sequence[Row]:
        """All rows of `stmt` for `params`: now (on the tap's own connection), or with the
        others of its kind that wait for a lane."""
        # Compiled and bound here, in the caller: a bad parameter fails its own tap, and
        # statement observers (benchmarks, tests) see the call in the tap's task.
        sql, args = statement_args(stmt, self.dialect, params)
        if batch is None:
            self.counts["alone"] += 1
            return await tap.run(sql, args)
        key = id(stmt)
        if self._out.get(key, 0) < LANES:
            self.counts["alone"] += 1
            self._out[key] = self._out.get(key, 0) + 1
            try:
                return await tap.run(sql, args)
            finally:
                self._lane_back(key)
        group = self._waiting.get(key)
        if group is None:
            group = self._waiting[key] = _Group(batch)
        self.counts["waited"] += 1
        call = _Call(params, sql, args, asyncio.get_running_loop().create_future())
        group.calls.append(call)
        return await call.done

    def _lane_back(self, key: int) -> None:
        group = self._waiting.pop(key, None)
        if group is None:
            self._out[key] -= 1
            return
        # The lane passes straight to the calls that waited for it.
        task = asyncio.get_running_loop().create_task(self._run(key, group))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    @property
    def engine(self) -> AsyncEngine:
        """The engine whose pool the statements run on."""
        return self._engine

    async def run_alone(self, sql: str, args: Sequence[Any]) -> Sequence[Row]:
        """`sql` on a connection of its own."""
        async with asyncio.timeout(self._deadline_s), driver_connection(self._engine) as conn:
            rows: Sequence[Row] = await conn.driver.fetch(sql, *args)
            return rows

    async def _run(self, key: int, group: _Group) -> None:
        self.counts["batches"] += 1
        calls = [call for call in group.calls if not call.done.done()]
        try:
            if len(calls) > 1:
                try:
                    await self._together(group.batch, calls)
                    return
                except Exception as exc:
                    if is_unavailable(exc):
                        raise
                    # Refused as a whole (a deadlock with another process, one call's
                    # value asyncpg cannot encode): nothing of it was written.
            await asyncio.gather(*(self._one(call) for call in calls))
        except BaseException as exc:
            for call in calls:
                _fail(call, exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._lane_back(key)

    async def _one(self, call: _Call) -> None:
        try:
            rows = await self.run_alone(call.sql, call.args)
        except Exception as exc:
            _fail(call, exc)
            return
        if not call.done.done():
            call.done.set_result(rows)

    async def _together(self, batch: BatchForm, calls: list[_Call]) -> None:
        compiled = compiled_for(batch.stmt, self.dialect)
        args = [_batched_arg(name, batch, calls, compiled.fixed) for name in compiled.names]
        async with asyncio.timeout(self._deadline_s), driver_connection(self._engine) as conn:
            rows = await conn.driver.fetch(compiled.sql, *args)
        per_call: list[list[Row]] = [[] for _ in calls]
        for row in rows:
            values = tuple(row)
            per_call[int(values[-1]) - 1].append(values[:-1])
        for call, found in zip(calls, per_call, strict=True):
            if not call.done.done():
                call.done.set_result(found)


class TapExecutor:
    """One tap's statements: those that go at once run on one pooled connection, taken at
    the first and kept to the end of the tap (as a tap without batching would); those
    that wait for a lane go with the others on the batch's connection."""

    def __init__(self, batcher: TapBatcher) -> None:
        self._batcher = batcher
        self.dialect: Dialect = batcher.dialect
        self._held: AbstractAsyncContextManager[DriverConnection] | None = None
        self._conn: DriverConnection | None = None
        self._busy = False

    async def fetch_all(
        self, stmt: Executable, params: Mapping[str, Any], batch: BatchForm | None
    ) -> Sequence[Row]:
        """All rows of `stmt` for `params` (see TapBatcher.fetch_all)."""
        return await self._batcher.fetch_all(stmt, params, batch, self)

    async def run(self, sql: str, args: Sequence[Any]) -> Sequence[Row]:
        """`sql` on the tap's own connection."""
        if self._busy:  # statements of one tap at the same time: the next on its own
            return await self._batcher.run_alone(sql, args)
        self._busy = True
        try:
            if self._conn is None:
                held = driver_connection(self._batcher.engine)
                self._conn = await held.__aenter__()
                self._held = held
            try:
                rows: Sequence[Row] = await self._conn.driver.fetch(sql, *args)
            except BaseException as exc:
                # Not handed on: driver_connection discards a connection a statement
                # failed on, and the tap's next statement takes a fresh one.
                await self.release(exc)
                raise
            return rows
        finally:
            self._busy = False

    async def release(self, exc: BaseException | None) -> None:
        """Give the connection back (discarded when `exc` ended the tap)."""
        held, self._held, self._conn = self._held, None, None
        if held is None:
            return
        if exc is None:
            await held.__aexit__(None, None, None)
        else:
            await held.__aexit__(type(exc), exc, exc.__traceback__)


def _fail(call: _Call, exc: BaseException) -> None:
    if call.done.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        call.done.cancel()
    else:
        call.done.set_exception(exc)


def _batched_arg(name: str, batch: BatchForm, calls: list[_Call], fixed: Mapping[str, Any]) -> Any:
    if name.startswith("r_"):
        return [call.params[name[2:]] for call in calls]
    if name == "rl_n":
        first = batch.lists[0]
        return [n for n, call in enumerate(calls, 1) for _ in call.params[first]]
    if name in batch.lists:
        return [value for call in calls for value in call.params[name]]
    return fixed[name]


# One per event loop (futures belong to one) and engine.
_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, TapBatcher]] = (
    weakref.WeakKeyDictionary()
)


def tap_batcher(engine: AsyncEngine, deadline_s: float) -> TapBatcher:
    """The running loop's batcher for `engine`."""
    per_engine = _batchers.setdefault(asyncio.get_running_loop(), {})
    found = per_engine.get(id(engine.sync_engine))
    if found is None or found._engine is not engine:
        found = per_engine[id(engine.sync_engine)] = TapBatcher(engine, deadline_s)
    return found
