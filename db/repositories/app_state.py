"""Process-wide switches stored in the database (so every process sees them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AppState

PUBLISHING_PAUSED = "publishing_paused"


async def get_value(session: AsyncSession, key: str, default: Any = None) -> Any:
    """The stored value for `key`, or `default`."""
    result = await session.execute(select(AppState.value).where(AppState.key == key))
    row = result.first()
    return default if row is None else row[0]


async def set_value(session: AsyncSession, key: str, value: Any) -> None:
    """Store `value` under `key` (insert or replace)."""
    row = await session.get(AppState, key)
    if row is None:
        session.add(AppState(key=key, value=value))
    else:
        row.value = value
    await session.flush()
