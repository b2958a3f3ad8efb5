"""Dashboard users."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories._common import add_unique


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    agent_id: uuid.UUID | None = None,
    is_admin: bool = False,
    telegram_user_id: int | None = None,
) -> User:
    """Create a user; raises DuplicateError when the email or agent is taken."""
    user = User(
        email=email.strip().lower(),
        password_hash=password_hash,
        agent_id=agent_id,
        is_admin=is_admin,
        telegram_user_id=telegram_user_id,
    )
    await add_unique(
        session, user, entity="user", fields={"email": user.email, "agent_id": agent_id}
    )
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The user with this id, or None."""
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    """The user with this email (case-insensitive), or None."""
    result = await session.execute(select(User).where(User.email == email.strip().lower()))
    return result.scalar_one_or_none()


async def update_user(session: AsyncSession, user_id: uuid.UUID, **values: Any) -> bool:
    """Set columns on a user; False when it does not exist."""
    result = await session.execute(update(User).where(User.id == user_id).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Delete a user; False when it does not exist."""
    result = await session.execute(delete(User).where(User.id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
