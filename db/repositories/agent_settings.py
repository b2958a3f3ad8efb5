"""Reading and locking an agent's own settings row."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent


async def lock_agent(session: AsyncSession, agent_id: uuid.UUID) -> Agent | None:
    """The agent, row-locked until the transaction ends (so settings edits never interleave)."""
    stmt = (
        select(Agent)
        .where(Agent.id == agent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def lock_agent_by_telegram_user(session: AsyncSession, telegram_user_id: int) -> Agent | None:
    """The agent linked to this Telegram user, row-locked until the transaction ends."""
    stmt = (
        select(Agent)
        .where(Agent.telegram_user_id == telegram_user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
