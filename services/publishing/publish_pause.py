"""Whether an admin paused publishing (/pause), as the publish round reads it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import app_state
from services.context import Database


class PausedMeanwhile(Exception):
    """Publishing was paused between the round's start and this claim."""


async def is_paused(database: Database) -> bool:
    """Whether an admin paused publishing (/pause)."""
    async with database.unit_of_work() as session:
        return await paused_in(session)


async def set_paused(database: Database, paused: bool) -> None:
    """Stop (/pause) or restart (/resume) all publishing; scheduled posts wait meanwhile."""
    async with database.unit_of_work() as session:
        await app_state.set_value(session, app_state.PUBLISHING_PAUSED, paused)


async def paused_in(session: AsyncSession) -> bool:
    """Whether publishing is paused, read inside `session` (after its writes)."""
    return bool(await app_state.get_value(session, app_state.PUBLISHING_PAUSED, False))
