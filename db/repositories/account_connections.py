"""Connecting and disconnecting an agent's social accounts: save (insert or reactivate),
list, disconnect, turn off after a permanent Graph error, and cancel the posts not sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import DuplicateError
from db.models import PostSchedule, SocialMediaAccount
from db.repositories._common import add_unique
from db.status import ScheduleStatus

PENDING = ScheduleStatus.PENDING.value
CANCELLED = ScheduleStatus.CANCELLED.value


async def deactivate_account(
    session: AsyncSession, account_pk: uuid.UUID, *, reason: str, now: datetime
) -> bool:
    """Turn an active account off with a reason; False if it was already off."""
    result = await session.execute(
        update(SocialMediaAccount)
        .where(SocialMediaAccount.id == account_pk, SocialMediaAccount.is_active.is_(True))
        .values(is_active=False, deactivated_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def save_account(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID,
    platform: str,
    account_id: str,
    display_name: str,
    access_token_encrypted: str,
    refresh_token_encrypted: str | None,
    token_expires_at: datetime | None,
    now: datetime,
) -> tuple[SocialMediaAccount, bool]:
    """Insert the account, or refresh and reactivate it; (row, True if it existed)."""
    values: dict[str, Any] = {
        "display_name": display_name,
        "access_token_encrypted": access_token_encrypted,
        "refresh_token_encrypted": refresh_token_encrypted,
        "token_expires_at": token_expires_at,
        "is_active": True,
        "deactivated_reason": None,
        "expiry_warned_at": None,
        "updated_at": now,
    }
    for _ in range(2):
        existing = await _update_account_returning(session, agent_id, platform, account_id, values)
        if existing is not None:
            return existing, True
        row = SocialMediaAccount(
            id=uuid.uuid4(), agent_id=agent_id, platform=platform, account_id=account_id, **values
        )
        try:
            await add_unique(session, row, entity="account", fields={"account_id": account_id})
        except DuplicateError:
            # Connected at the same moment elsewhere: update that row instead.
            continue
        return row, False
    raise RuntimeError("account row neither inserted nor found")  # pragma: no cover


async def _update_account_returning(
    session: AsyncSession,
    agent_id: uuid.UUID,
    platform: str,
    account_id: str,
    values: dict[str, Any],
) -> SocialMediaAccount | None:
    stmt = (
        update(SocialMediaAccount)
        .where(
            SocialMediaAccount.agent_id == agent_id,
            SocialMediaAccount.platform == platform,
            SocialMediaAccount.account_id == account_id,
        )
        .values(**values)
        .returning(SocialMediaAccount)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def agent_accounts(session: AsyncSession, agent_id: uuid.UUID) -> list[SocialMediaAccount]:
    """The agent's accounts: active first, then by platform and age."""
    stmt = (
        select(SocialMediaAccount)
        .where(SocialMediaAccount.agent_id == agent_id)
        .order_by(
            SocialMediaAccount.is_active.desc(),
            SocialMediaAccount.platform,
            SocialMediaAccount.created_at,
        )
    )
    return list((await session.execute(stmt)).scalars().all())


async def disconnect_account(
    session: AsyncSession,
    *,
    account_pk: uuid.UUID,
    agent_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> SocialMediaAccount | None:
    """Turn the agent's account off; None when it is not theirs or does not exist."""
    stmt = (
        update(SocialMediaAccount)
        .where(SocialMediaAccount.id == account_pk, SocialMediaAccount.agent_id == agent_id)
        .values(is_active=False, deactivated_reason=reason, updated_at=now)
        .returning(SocialMediaAccount)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def cancel_pending_for_account(
    session: AsyncSession, account_pk: uuid.UUID, *, now: datetime
) -> list[uuid.UUID]:
    """Cancel the account's posts not sent yet; the piece of each cancelled post."""
    stmt = (
        update(PostSchedule)
        .where(PostSchedule.social_media_account_id == account_pk, PostSchedule.status == PENDING)
        .values(status=CANCELLED, updated_at=now)
        .returning(PostSchedule.content_piece_id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(stmt)).scalars().all())
