"""Agents, their service areas, invites and listing assignments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Agent, AgentInvite, AgentServiceArea
from db.repositories._common import add_unique


async def create_agent(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    phone: str | None = None,
    company: str | None = None,
    notification_preferences: dict[str, Any] | None = None,
) -> Agent:
    """Create an agent; raises DuplicateError when the email is taken."""
    agent = Agent(
        email=email.strip().lower(),
        name=name.strip(),
        phone=phone,
        company=company,
        notification_preferences=notification_preferences or {},
    )
    await add_unique(session, agent, entity="agent", fields={"email": agent.email})
    return agent


async def get_agent(session: AsyncSession, agent_id: uuid.UUID) -> Agent | None:
    """The agent with this id, or None."""
    return await session.get(Agent, agent_id)


async def get_agent_by_email(session: AsyncSession, email: str) -> Agent | None:
    """The agent with this email (case-insensitive), or None."""
    result = await session.execute(select(Agent).where(Agent.email == email.strip().lower()))
    return result.scalar_one_or_none()


async def get_agent_by_telegram_user(session: AsyncSession, telegram_user_id: int) -> Agent | None:
    """The agent linked to this Telegram user, or None."""
    result = await session.execute(select(Agent).where(Agent.telegram_user_id == telegram_user_id))
    return result.scalar_one_or_none()


async def list_agents(session: AsyncSession, *, active_only: bool = False) -> Sequence[Agent]:
    """All agents by name, with their service areas loaded."""
    stmt = select(Agent).options(selectinload(Agent.service_areas)).order_by(Agent.name)
    if active_only:
        stmt = stmt.where(Agent.is_active.is_(True))
    return (await session.execute(stmt)).scalars().all()


async def update_agent(session: AsyncSession, agent_id: uuid.UUID, **values: Any) -> bool:
    """Set columns on an agent; False when it does not exist."""
    if not values:
        return await get_agent(session, agent_id) is not None
    result = await session.execute(update(Agent).where(Agent.id == agent_id).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_agent(session: AsyncSession, agent_id: uuid.UUID) -> bool:
    """Delete an agent; False when it does not exist."""
    result = await session.execute(delete(Agent).where(Agent.id == agent_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_service_areas(
    session: AsyncSession, agent_id: uuid.UUID, areas: Sequence[tuple[str, str]]
) -> None:
    """Replace the agent's service areas with `(kind, value)` pairs."""
    await session.execute(delete(AgentServiceArea).where(AgentServiceArea.agent_id == agent_id))
    seen: set[tuple[str, str]] = set()
    for kind, value in areas:
        key = (kind, value.strip().lower())
        if key[1] and key not in seen:
            seen.add(key)
            session.add(AgentServiceArea(agent_id=agent_id, kind=key[0], value=key[1]))
    await session.flush()


async def create_invite(
    session: AsyncSession, agent_id: uuid.UUID, token_hash: str, expires_at: datetime
) -> AgentInvite:
    """Store a new invite (only the token's hash)."""
    invite = AgentInvite(agent_id=agent_id, token_hash=token_hash, expires_at=expires_at)
    session.add(invite)
    await session.flush()
    return invite


async def claim_invite(
    session: AsyncSession, token_hash: str, telegram_user_id: int, now: datetime
) -> uuid.UUID | None:
    """Use up a valid invite in one compare-and-set; returns its agent, or None.

    A conditional UPDATE rather than SELECT … FOR UPDATE: SQLite ignores row locks, and
    two redemptions of one link must not both succeed on either database.
    """
    result = await session.execute(
        update(AgentInvite)
        .where(
            AgentInvite.token_hash == token_hash,
            AgentInvite.used_at.is_(None),
            AgentInvite.expires_at > now,
        )
        .values(used_at=now, used_by_telegram_user_id=telegram_user_id)
        .returning(AgentInvite.agent_id)
    )
    row = result.first()
    return None if row is None else row[0]


async def count_agents(session: AsyncSession) -> int:
    """How many agents exist."""
    return int((await session.execute(select(func.count()).select_from(Agent))).scalar_one())
