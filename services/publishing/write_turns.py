"""Units of work that write, taking turns on SQLite (one writer at a time)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from services.context import Database

_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def writing(database: Database) -> AsyncIterator[AsyncSession]:
    """A unit of work that writes.

    SQLite has one writer at a time and makes the others poll (sleeping up to 100 ms a
    try); letting this process's publishers take turns instead is several times faster.
    """
    if database.engine.dialect.name != "sqlite":
        async with database.unit_of_work() as session:
            yield session
        return
    lock = _SQLITE_WRITERS.setdefault(database.engine.sync_engine, asyncio.Lock())
    async with lock, database.unit_of_work() as session:
        yield session
