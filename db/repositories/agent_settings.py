"""Locking an agent's row before a read-modify-write of their settings."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Agent


async def lock_agent(session: AsyncSession, agent_id: uuid.UUID) -> Agent | None:
    """The agent, write-locked until the transaction ends and read once the lock is held.

    An `UPDATE … RETURNING` takes the lock on both databases: PostgreSQL locks the row,
    and SQLite takes its database write lock before reading (a `SELECT … FOR UPDATE`
    is ignored there, and the driver runs a leading SELECT outside the transaction).
    So two edits of the same JSON column cannot both start from the old value.
    """
    stmt = (
        update(Agent)
        .where(Agent.id == agent_id)
        .values(updated_at=utcnow())
        .returning(Agent)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
