"""Shared pieces of the Telegram benches: databases, the running bot, SQL counting, stats.

Every bench prints one JSON object to stdout; logs go to stderr at WARNING.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from telegram.ext import ExtBot

from bot.app import build_application, file_base_url, start_application, stop_application
from bot.app_type import App
from bot.runtime import RUNTIME_KEY, Runtime
from bot.telegram_notifier import TelegramNotifier
from db import driver, migrate
from db.session import create_engine, create_sessionmaker
from rltr_mktg.process import freeze_startup_heap
from services.context import Database
from services.crypto import TokenCipher, generate_key
from services.settings import load_settings

log = logging.getLogger(__name__)

PG_ENV_VARS = ("BENCH_DATABASE_URL", "TEST_DATABASE_URL")
# Tables a bench may drop: ours and Alembic's. Anything else means the URL is not a
# throw-away database, and the bench refuses to touch it.
_OWN_TABLE_PREFIX = "rltr_mktg_"
_OWN_TABLES = frozenset({"alembic_version"})


class BenchError(Exception):
    """The bench cannot run as asked; the message says what to do."""


def quiet_logging() -> None:
    """Warnings and errors only, on stderr, so stdout stays one JSON object."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for name in ("httpx", "httpcore", "telegram", "aiohttp", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)


def emit(result: dict[str, Any]) -> None:
    """Print the bench result as one JSON object."""
    print(json.dumps(result, indent=2, sort_keys=False, default=str))


def postgres_url(explicit: str | None = None) -> str | None:
    """The PostgreSQL URL to use: the argument, else BENCH_DATABASE_URL, else TEST_DATABASE_URL."""
    if explicit:
        return explicit
    for name in PG_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def backends(which: str, pg_url: str | None) -> list[str]:
    """Backends to run: 'sqlite', 'postgresql' or 'both' (PostgreSQL only with a URL)."""
    if which == "sqlite":
        return ["sqlite"]
    if which == "postgresql":
        if not pg_url:
            raise BenchError(
                "No PostgreSQL URL: set BENCH_DATABASE_URL to a throw-away database "
                "(psql -c 'create database rltr_bench') or pass --database-url."
            )
        return ["postgresql"]
    return ["postgresql", "sqlite"] if pg_url else ["sqlite"]


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.begin() as conn:
            names = (
                await conn.execute(
                    text("select tablename from pg_tables where schemaname = 'public'")
                )
            ).scalars()
            foreign = sorted(
                n for n in names if not n.startswith(_OWN_TABLE_PREFIX) and n not in _OWN_TABLES
            )
            if foreign:
                db_name = make_url(url).database
                raise BenchError(
                    f"Database {db_name!r} holds tables that are not this project's "
                    f"({', '.join(foreign[:3])}...): point the bench at a throw-away database."
                )
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def fresh_database_url(backend: str, pg_url: str | None, workdir: Path) -> str:
    """An empty, migrated database for one run (PostgreSQL: its public schema is recreated)."""
    if backend == "postgresql":
        assert pg_url is not None
        await _reset_postgres(pg_url)
        url = pg_url
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await migrate.upgrade(url)
    return url


@asynccontextmanager
async def open_database(url: str, *, pool_size: int | None = None) -> AsyncIterator[Database]:
    """A committing Database on `url` (engine disposed on exit)."""
    engine = create_engine(url) if pool_size is None else create_engine(url, pool_size=pool_size)
    try:
        yield Database(
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            cipher=TokenCipher([generate_key()]),
        )
    finally:
        await engine.dispose()


@asynccontextmanager
async def running_bot(
    fake_base_url: str, token: str, database: Database, data_dir: Path
) -> AsyncIterator[App]:
    """The real Application (bot/app.py) polling the fake Bot API; jobs off."""
    settings = load_settings(
        telegram_bot_token=token,
        telegram_api_base_url=fake_base_url,
        telegram_admin_ids="",
        data_dir=data_dir,
        default_timezone="UTC",
        _env_file=None,
    )
    app = build_application(settings, database=database, with_jobs=False)
    await start_application(app)
    freeze_startup_heap()  # as `rltr-mktg run` does once the bot is up
    try:
        yield app
    finally:
        await stop_application(app)


@asynccontextmanager
async def unthrottled_notifier(app: App, base_url: str) -> AsyncIterator[TelegramNotifier]:
    """The bot's notifier on a second ExtBot without a rate limiter (fast bench set-up).

    Same token, defaults (HTML) and callback signer, so the buttons it sends are the
    ones the running Application accepts.
    """
    bot: ExtBot[Any] = ExtBot(
        app.bot.token,
        base_url=base_url,
        base_file_url=file_base_url(base_url),
        defaults=app.bot.defaults,
    )
    async with bot:
        yield TelegramNotifier(bot, bot_runtime(app).signer)


@contextmanager
def send_budget_lifted(app: App) -> Iterator[None]:
    """Lift the bot's overall 30 messages/s budget until exit (per-chat limits stay).

    A throughput phase where one tap in ten sends a message (the Revise prompt) is
    otherwise capped near 300 taps/s by that budget, whatever the handler costs; the
    budget itself is measured by bench/fanout.py. PTB's AIORateLimiter keeps the
    budget in `_base_limiter` and skips it when that is None.
    """
    limiter = app.bot.rate_limiter
    saved = getattr(limiter, "_base_limiter", None)
    if saved is None:
        raise BenchError("the bot's rate limiter has no overall budget to lift")
    limiter._base_limiter = None  # type: ignore[union-attr]
    try:
        yield
    finally:
        limiter._base_limiter = saved  # type: ignore[union-attr]


def is_local_postgres(url: str) -> bool:
    """Whether `url` is a PostgreSQL server on this machine (so /proc can see its CPU)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and parsed.host in (
        None,
        "",
        "localhost",
        "127.0.0.1",
        "::1",
    )


def postgres_cpu_seconds() -> float | None:
    """CPU seconds used so far by the PostgreSQL server processes on this machine.

    None where /proc cannot tell (not Linux, or another user's processes). Backends
    that exit meanwhile take their CPU with them; the bench's pooled ones stay.
    """
    total = 0
    found = False
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for pid in entries:
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="latin-1") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name != "postgres" and not name.startswith("postgres:"):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def bot_runtime(app: App) -> Runtime:
    """The Runtime the bot built in post_init."""
    value = app.bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value


# --------------------------------------------------------------------------------------
# SQL counting
# --------------------------------------------------------------------------------------


@dataclass
class TaskSql:
    """What one asyncio task (one handler run) did on the database."""

    statements: int = 0
    begins: int = 0
    commits: int = 0
    rollbacks: int = 0
    kinds: list[str] = field(default_factory=list)
    subject: uuid.UUID | None = None
    first_statement_at: float | None = None
    committed_at: float | None = None


def _statement_kind(statement: str) -> str:
    words = statement.lstrip().split(None, 3)
    head = words[0].upper() if words else "?"
    if head in ("INSERT", "UPDATE", "DELETE") and len(words) > 2:
        table = words[2] if head != "UPDATE" else words[1]
        return head + " " + table.strip('"')
    if head == "SELECT":
        return "SELECT"
    return head


def _as_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and len(value) in (32, 36):
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return None


def _flatten(parameters: Any) -> Iterable[Any]:
    if isinstance(parameters, dict):
        return parameters.values()
    if isinstance(parameters, (list, tuple)):
        return parameters
    return ()


class SqlCounter:
    """Counts statements, BEGINs and COMMITs per asyncio task, with their commit time.

    Statements: SQLAlchemy's `before_cursor_execute` (one per execute or executemany),
    plus the statements `db.driver` runs on asyncpg directly (its `observers`; a tap on
    PostgreSQL opens no transaction, so it has no BEGIN or COMMIT to count).
    BEGIN/COMMIT/ROLLBACK: the engine's `begin`/`commit`/`rollback` events; with asyncpg
    each is a real message to the server, with aiosqlite a call on the SQLite thread.
    The commit time is when the task left a `Database.tap()` or `unit_of_work()` block
    (both wrapped while counting), i.e. after its COMMIT was confirmed, or after its last
    statement returned when no transaction was open. (The pool's `checkin` would not do:
    SQLAlchemy closes connections in a task of its own.) A task's `subject` is the first
    parameter that is one of `subjects` (e.g. the draft's id), which ties a handler run
    to the tap that caused it.
    """

    def __init__(self, database: Database, subjects: Iterable[uuid.UUID] = ()) -> None:
        self._database = database
        self._engine = database.engine.sync_engine
        self.subjects: set[uuid.UUID] = set(subjects)
        # Keyed by the task object itself: ids of finished tasks get reused.
        self._by_task: weakref.WeakKeyDictionary[asyncio.Task[Any], TaskSql] = (
            weakref.WeakKeyDictionary()
        )
        self.tasks: list[TaskSql] = []
        self._installed = False
        # New database connections opened while enabled (pool overflow churn shows here).
        self.connects = 0

    def _task(self) -> TaskSql | None:
        if not self.enabled:
            return None
        try:
            task = asyncio.current_task()
        except RuntimeError:
            return None
        if task is None:
            return None
        stats = self._by_task.get(task)
        if stats is None:
            stats = self._by_task[task] = TaskSql()
            self.tasks.append(stats)
        return stats

    def _on_execute(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        self._count(statement, parameters if executemany else [parameters])

    def _on_driver_statement(self, statement: str, args: Sequence[Any]) -> None:
        self._count(statement, [args])

    def _count(self, statement: str, rows: Sequence[Any]) -> None:
        stats = self._task()
        if stats is None:
            return
        stats.statements += 1
        if stats.first_statement_at is None:
            stats.first_statement_at = time.monotonic()
        stats.kinds.append(_statement_kind(statement))
        if stats.subject is None and self.subjects:
            for row in rows:
                for value in _flatten(row):
                    found = _as_uuid(value)
                    if found is not None and found in self.subjects:
                        stats.subject = found
                        return

    def _on_begin(self, conn: Connection) -> None:
        stats = self._task()
        if stats is not None:
            stats.begins += 1

    def _on_commit(self, conn: Connection) -> None:
        stats = self._task()
        if stats is not None:
            stats.commits += 1

    def _on_rollback(self, conn: Connection) -> None:
        stats = self._task()
        if stats is not None:
            stats.rollbacks += 1

    def _on_connect(self, dbapi_connection: Any, record: Any) -> None:
        if self.enabled:
            self.connects += 1

    def _timed(self, opener: Any) -> Any:
        """`opener` (a context manager factory), noting when its block has committed."""

        @asynccontextmanager
        async def wrapped() -> AsyncIterator[Any]:
            async with opener() as handle:
                yield handle
            stats = self._task()
            if stats is not None:
                stats.committed_at = time.monotonic()

        return wrapped

    @property
    def enabled(self) -> bool:
        """Whether statements are counted now. Off, no hook is left in the bot's way: the
        rounds that compare throughput run as the bot would without a bench."""
        return self._installed

    @enabled.setter
    def enabled(self, on: bool) -> None:
        if on and not self._installed:
            self._install()
        elif not on and self._installed:
            self._uninstall()
        self._installed = on

    def __enter__(self) -> SqlCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.enabled = False

    def _install(self) -> None:
        event.listen(self._engine, "before_cursor_execute", self._on_execute)
        driver.observers.append(self._on_driver_statement)
        event.listen(self._engine, "begin", self._on_begin)
        event.listen(self._engine, "commit", self._on_commit)
        event.listen(self._engine, "rollback", self._on_rollback)
        # Instance attributes shadow the methods until __exit__ deletes them.
        self._database.tap = self._timed(self._database.tap)  # type: ignore[method-assign]
        self._database.unit_of_work = self._timed(  # type: ignore[method-assign]
            self._database.unit_of_work
        )
        event.listen(self._engine, "connect", self._on_connect)

    def _uninstall(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_execute)
        driver.observers.remove(self._on_driver_statement)
        event.remove(self._engine, "begin", self._on_begin)
        event.remove(self._engine, "commit", self._on_commit)
        event.remove(self._engine, "rollback", self._on_rollback)
        del self._database.tap
        del self._database.unit_of_work
        event.remove(self._engine, "connect", self._on_connect)

    def reset(self) -> None:
        """Forget everything counted so far."""
        self._by_task = weakref.WeakKeyDictionary()
        self.tasks = []
        self.connects = 0

    def by_subject(self) -> dict[uuid.UUID, TaskSql]:
        """Counted tasks keyed by their subject (tasks without one are left out)."""
        return {s.subject: s for s in self.tasks if s.subject is not None}


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(seconds: Iterable[float]) -> dict[str, float | int | None]:
    """n, p50, p90, p99 and max in milliseconds (nearest rank)."""
    values = sorted(seconds)
    if not values:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.50) * 1000, 2),
        "p90": round(percentile(values, 0.90) * 1000, 2),
        "p99": round(percentile(values, 0.99) * 1000, 2),
        "max": round(values[-1] * 1000, 2),
    }


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, rounded to 2 places (None when empty)."""
    return round(sum(values) / len(values), 2) if values else None


def machine() -> dict[str, Any]:
    """CPU count and Python version, so numbers are read in context."""
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": sys.version.split()[0],
        # Other work on the machine skews every number; read them with this in mind.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
