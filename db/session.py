"""Engine and session factory built from a URL passed in; the unit of work.

`db` reads no settings: the caller hands it the URL.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import os
import sys
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from db.driver import Executor
from db.errors import DatabaseUnavailableError, DatabaseUrlError, is_unavailable
from db.sqlalchemy_private import invalidate_pooled
from db.tap_batches import tap_batcher

_ASYNC_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}
TAP_DEADLINE_S = 5.0
"""A tap is answered within seconds: its connection and statements get this long."""


def normalize_url(raw: str) -> URL:
    """Parse a database URL and pick the async driver (asyncpg / aiosqlite).

    `postgres://…`, `postgresql://…` and `sqlite:///…` are accepted as users write them.
    """
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"cannot parse database URL: {exc}") from None
    backend = url.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in _ASYNC_DRIVERS:
        raise DatabaseUrlError(
            f"unsupported database {backend!r}; use postgresql+asyncpg:// or sqlite+aiosqlite://"
        )
    driver = url.get_driver_name()
    wanted = _ASYNC_DRIVERS[backend]
    if driver != wanted:
        url = url.set(drivername=f"{backend}+{wanted}")
    if backend == "postgresql" and not url.database:
        raise DatabaseUrlError("the PostgreSQL URL names no database")
    return url


# glibc's mallopt parameter for the most malloc arenas (malloc.h: M_ARENA_MAX).
_M_ARENA_MAX = -8
_SQLITE_ARENAS = 1


@functools.cache
def _cap_malloc_arenas() -> None:
    """Let threads share one malloc arena instead of one each (glibc only; once).

    aiosqlite runs every SQLite connection in a thread of its own, and glibc gives each
    thread an arena that keeps what the thread freed: with a 10,000-listing scrape pass
    that was ~20 MB of the bot's resident memory (bench/memory.py). An explicit
    MALLOC_ARENA_MAX in the environment wins.
    """
    if sys.platform != "linux" or "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_ARENA_MAX, _SQLITE_ARENAS)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to cap
        return


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and a
    # lost `sent` claim would let the same post go out a second time.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _create_private_file(database: str | None) -> None:
    """Create a new SQLite file owner-only (0600) before SQLite creates it with the umask's
    mode (usually 0644); its -wal and -shm files take the database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        return  # it exists already, or SQLite will report why it cannot be created


def _closed_means_restart(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """On checkout, a pooled connection the server has closed (a restart, a terminated
    backend, a network cut) means the others are gone too: replace them all, and this one
    now, rather than fail a tap or a job on each in turn. asyncpg notices a server's close
    as it happens, so this costs no round trip (unlike a pre-ping)."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise InvalidatePoolError("the server closed the connection")


def invalidate_pool(engine: AsyncEngine) -> None:
    """Replace every pooled connection at its next checkout.

    What SQLAlchemy itself does when a statement on its own path meets a disconnect; the
    tap's statements bypass that path (`db.driver`), so it is done here for them.
    """
    invalidate_pooled(engine)


def create_engine(url: str | URL, *, pool_size: int = 20, null_pool: bool = False) -> AsyncEngine:
    """Build the async engine for `url` (PostgreSQL or SQLite).

    PostgreSQL keeps a fixed pool of `pool_size` connections and no overflow: a burst
    waits a moment for a connection instead of opening and closing extra ones, which
    cost far more than the wait (bench/approval.py saw 54 new connections per 600 taps
    with 10 overflow connections, and none without).
    """
    parsed = normalize_url(url) if isinstance(url, str) else url
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        if null_pool:
            kwargs["poolclass"] = NullPool
        else:
            kwargs.update(pool_size=pool_size, max_overflow=0, pool_pre_ping=False)
    elif null_pool:
        kwargs["poolclass"] = NullPool
    if parsed.get_backend_name() == "sqlite":
        _cap_malloc_arenas()  # before the first connection's thread starts
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _create_private_file(parsed.database)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    elif not null_pool:
        event.listen(engine.sync_engine, "checkout", _closed_means_restart)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: commits when the block ends, rolls back when it raises."""
    async with sessionmaker() as session, session.begin():
        yield session


@asynccontextmanager
async def tap_connection(
    engine: AsyncEngine, *, deadline_s: float = TAP_DEADLINE_S
) -> AsyncIterator[Executor]:
    """The connection one button tap runs on.

    PostgreSQL: statements run through asyncpg on a pooled connection with no transaction
    (`db.driver`); while the database is busy, a statement waits to go in one with other
    taps' (`db.tap_batches`). Every write in `db.repositories.transitions` is a single statement
    there, atomic by itself, so BEGIN and COMMIT would only add two round trips to each tap.
    SQLite: one transaction, because there a transition takes several statements; taps
    in this process take turns (SQLite has one writer at a time anyway, and its busy
    handler waits by sleeping and retrying, which let a burst of taps wait seconds).

    The block must be done within `deadline_s`. Raises `DatabaseUnavailableError` when the
    database cannot be reached or does not answer in time; the pool is then renewed.
    """
    postgres = engine.dialect.name == "postgresql"
    try:
        async with asyncio.timeout(deadline_s):
            if postgres:
                async with tap_batcher(engine, deadline_s).tap() as executor:
                    yield executor
            else:
                async with _sqlite_turn(engine), engine.begin() as conn:
                    yield conn
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        if postgres:
            invalidate_pool(engine)
        raise DatabaseUnavailableError("The database cannot be reached right now.") from exc


# Per event loop (asyncio locks belong to one) and engine.
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _sqlite_turn(engine: AsyncEngine) -> asyncio.Lock:
    per_engine = _turns.setdefault(asyncio.get_running_loop(), {})
    return per_engine.setdefault(id(engine.sync_engine), asyncio.Lock())
