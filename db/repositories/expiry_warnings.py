"""Token expiry warnings: claim (once per token) the accounts whose token ends soon, and
read their agents.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, SocialMediaAccount


@dataclass(frozen=True)
class ExpiringAccount:
    """An active account whose token ends soon and whose agent was not warned yet."""

    account_pk: uuid.UUID
    agent_id: uuid.UUID
    platform: str
    account_name: str
    token_expires_at: datetime


async def claim_expiry_warnings(
    session: AsyncSession, *, expiring_before: datetime, now: datetime, limit: int = 500
) -> list[ExpiringAccount]:
    """Mark active accounts whose token ends before `expiring_before` as warned; return them.

    One UPDATE … RETURNING guarded by `expiry_warned_at IS NULL`, so each account is
    warned once per token even with several processes.
    """
    ids = (
        select(SocialMediaAccount.id)
        .where(
            SocialMediaAccount.is_active.is_(True),
            SocialMediaAccount.token_expires_at.is_not(None),
            SocialMediaAccount.token_expires_at <= expiring_before,
            SocialMediaAccount.expiry_warned_at.is_(None),
        )
        .limit(limit)
    )
    stmt = (
        update(SocialMediaAccount)
        .where(
            SocialMediaAccount.id.in_(ids.scalar_subquery()),
            SocialMediaAccount.expiry_warned_at.is_(None),
        )
        .values(expiry_warned_at=now)
        .returning(
            SocialMediaAccount.id,
            SocialMediaAccount.agent_id,
            SocialMediaAccount.platform,
            func.coalesce(SocialMediaAccount.display_name, SocialMediaAccount.account_id),
            SocialMediaAccount.token_expires_at,
        )
        .execution_options(synchronize_session=False)
    )
    return [
        ExpiringAccount(r[0], r[1], str(r[2]), str(r[3]), r[4])
        for r in (await session.execute(stmt)).all()
        if r[4] is not None
    ]


async def agents_by_id(
    session: AsyncSession, agent_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Agent]:
    """Agents keyed by id."""
    if not agent_ids:
        return {}
    rows = await session.execute(select(Agent).where(Agent.id.in_(list(agent_ids))))
    return {a.id: a for a in rows.scalars().all()}
