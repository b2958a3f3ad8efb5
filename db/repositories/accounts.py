"""Connected social media accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SocialMediaAccount
from db.repositories._common import add_unique


async def create_account(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID,
    platform: str,
    account_id: str,
    access_token_encrypted: str,
    token_expires_at: datetime | None = None,
    refresh_token_encrypted: str | None = None,
    display_name: str | None = None,
) -> SocialMediaAccount:
    """Store a connected account; raises DuplicateError when it is already connected."""
    row = SocialMediaAccount(
        agent_id=agent_id,
        platform=platform,
        account_id=account_id,
        access_token_encrypted=access_token_encrypted,
        token_expires_at=token_expires_at,
        refresh_token_encrypted=refresh_token_encrypted,
        display_name=display_name,
    )
    await add_unique(session, row, entity="account", fields={"account_id": account_id})
    return row


async def get_account(session: AsyncSession, account_pk: uuid.UUID) -> SocialMediaAccount | None:
    """The account row with this id, or None."""
    return await session.get(SocialMediaAccount, account_pk)


async def find_account(
    session: AsyncSession, agent_id: uuid.UUID, platform: str, account_id: str
) -> SocialMediaAccount | None:
    """The agent's account on `platform` with this platform id, or None."""
    result = await session.execute(
        select(SocialMediaAccount).where(
            SocialMediaAccount.agent_id == agent_id,
            SocialMediaAccount.platform == platform,
            SocialMediaAccount.account_id == account_id,
        )
    )
    return result.scalar_one_or_none()


async def list_accounts(
    session: AsyncSession, agent_id: uuid.UUID | None = None, *, active_only: bool = False
) -> Sequence[SocialMediaAccount]:
    """Accounts (of one agent, or all), by platform."""
    stmt = select(SocialMediaAccount).order_by(
        SocialMediaAccount.platform, SocialMediaAccount.created_at
    )
    if agent_id is not None:
        stmt = stmt.where(SocialMediaAccount.agent_id == agent_id)
    if active_only:
        stmt = stmt.where(SocialMediaAccount.is_active.is_(True))
    return (await session.execute(stmt)).scalars().all()


async def update_account(session: AsyncSession, account_pk: uuid.UUID, **values: Any) -> bool:
    """Set columns on an account; False when it does not exist."""
    result = await session.execute(
        update(SocialMediaAccount).where(SocialMediaAccount.id == account_pk).values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
