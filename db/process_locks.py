"""Locks shared by every process on one PostgreSQL database (session advisory locks).

A lock lives on a connection of its own, held in autocommit for as long as the work
runs, so no transaction stays open across network calls; a process that dies loses its
connection and with it the lock. SQLite serves one process only (the lock file of
`rltr-mktg run`), so there the lock is always granted.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

SCRAPE_LOCK = "rltr_mktg:scrape_pass"
"""One scrape pass at a time across processes."""
MIGRATIONS = "rltr_mktg:migrations"
"""Schema upgrades, one process at a time (a transaction lock, migrations/env.py)."""
POLLING = "rltr_mktg:polling"
"""The one `rltr-mktg run` that long-polls Telegram (held for the life of the process)."""
FANOUT = "rltr_mktg:fanout"
"""One process at a time spends the bot's Telegram send budget on queued drafts and
notifications (the budget is per bot, not per process)."""


def lock_key(name: str) -> int:
    """The signed 64-bit key PostgreSQL's advisory locks take, stable across processes."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@asynccontextmanager
async def try_advisory_lock(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Yield True while this process holds the lock `name`, False when another one holds it.

    Never waits: the caller skips its work when it gets False.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        held = bool(await auto.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        try:
            yield held
        finally:
            if held:
                try:
                    await auto.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                except BaseException:
                    # A lock left on a pooled connection would block every other process:
                    # closing the connection ends its session and the lock with it.
                    await conn.invalidate()
                    raise
