"""The shared resources a process opens once: database and token cipher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.driver import Executor
from db.session import create_engine, create_sessionmaker, tap_connection, unit_of_work
from services.crypto import TokenCipher
from services.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Database:
    """An engine, its session factory and the token cipher."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    cipher: TokenCipher

    def unit_of_work(self) -> AbstractAsyncContextManager[AsyncSession]:
        """One transaction (commit on success, rollback on error)."""
        return unit_of_work(self.sessionmaker)

    async def run(
        self,
        step: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`step(session, *args, **kwargs)` in a unit of work of its own.

        How a caller that holds no session (a Telegram handler) calls a service.
        """
        async with self.unit_of_work() as session:
            return await step(session, *args, **kwargs)

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
