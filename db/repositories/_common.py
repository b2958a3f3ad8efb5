"""Helpers shared by the repositories."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.errors import DuplicateError
from db.models import SLOT_INDEX, PostSchedule


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


# sqlite3 names the index's columns, not the index.
_POSTS = PostSchedule.__tablename__
_SQLITE_SLOT_MESSAGE = (
    f"unique constraint failed: {_POSTS}.social_media_account_id, {_POSTS}.scheduled_at"
)


def is_slot_conflict(exc: BaseException) -> bool:
    """Whether `exc` (asyncpg's or sqlite3's own, or SQLAlchemy's wrapping of either) is
    the one-waiting-post-per-account-and-slot index refusing a row."""
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(seen, "constraint_name", None) == SLOT_INDEX:
            return True
        if _SQLITE_SLOT_MESSAGE in str(seen).lower():
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False
