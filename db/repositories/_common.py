"""Helpers shared by the repositories."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.errors import DuplicateError


async def add_unique(
    session: AsyncSession, obj: Base, *, entity: str, fields: dict[str, object]
) -> None:
    """Insert `obj` in a savepoint; a unique violation becomes `DuplicateError`.

    The savepoint keeps the caller's transaction usable on PostgreSQL after the error.
    """
    try:
        async with session.begin_nested():
            session.add(obj)
            await session.flush()
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        for field, value in fields.items():
            if field.lower() in text:
                raise DuplicateError(entity, field, value) from None
        if "unique" in text or "duplicate" in text:
            field, value = next(iter(fields.items()))
            raise DuplicateError(entity, field, value) from None
        raise
