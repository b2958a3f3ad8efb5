"""The shared resources a process opens once: database and token cipher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.driver import Executor
from db.session import create_engine, create_sessionmaker, tap_connection, unit_of_work
from services.crypto import TokenCipher
from services.settings import Settings


@dataclass
class Database:
    """An engine, its session factory and the token cipher."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    cipher: TokenCipher

    def unit_of_work(self) -> AbstractAsyncContextManager[AsyncSession]:
        """One transaction (commit on success, rollback on error)."""
        return unit_of_work(self.sessionmaker)

    def tap(self) -> AbstractAsyncContextManager[Executor]:
        """The connection for one button tap (no transaction on PostgreSQL; see tap_connection)."""
        return tap_connection(self.engine)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """Open the database named by the settings; disposes the engine on exit."""
    engine = create_engine(settings.resolved_database_url)
    try:
        yield Database(
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            cipher=TokenCipher(settings.encryption_keys()),
        )
    finally:
        await engine.dispose()
