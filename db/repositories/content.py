"""Content pieces (drafts) and their versions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import ContentPiece, ContentVersion


async def create_content_piece(
    session: AsyncSession,
    *,
    listing_id: uuid.UUID,
    agent_id: uuid.UUID,
    content_type: str,
    generated_text: dict[str, Any],
    status: str,
    purpose: str,
    associated_image_urls: list[str] | None = None,
    warnings: list[Any] | None = None,
    writer: str | None = None,
    usage_tokens: int | None = None,
    event_key: str | None = None,
) -> ContentPiece:
    """Create a draft with its first version (`event_key`: the lifecycle event it announces)."""
    piece = ContentPiece(
        id=uuid.uuid4(),
        listing_id=listing_id,
        agent_id=agent_id,
        content_type=content_type,
        generated_text=generated_text,
        status=status,
        purpose=purpose,
        associated_image_urls=associated_image_urls or [],
        warnings=warnings or [],
        writer=writer,
        version=1,
        event_key=event_key,
    )
    session.add(piece)
    session.add(
        ContentVersion(
            content_piece_id=piece.id,
            version=1,
            generated_text=generated_text,
            writer=writer,
            warnings=warnings or [],
            usage_tokens=usage_tokens,
        )
    )
    await session.flush()
    return piece


async def get_content_piece(
    session: AsyncSession, piece_id: uuid.UUID, *, for_update: bool = False
) -> ContentPiece | None:
    """The draft with this id, optionally locked for a status change."""
    stmt = select(ContentPiece).where(ContentPiece.id == piece_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_content_for_agent(
    session: AsyncSession,
    agent_id: uuid.UUID,
    *,
    statuses: Sequence[str] | None = None,
    limit: int = 50,
) -> Sequence[ContentPiece]:
    """An agent's drafts, oldest first, with their listing loaded."""
    stmt = (
        select(ContentPiece)
        .where(ContentPiece.agent_id == agent_id)
        .options(selectinload(ContentPiece.listing))
        .order_by(ContentPiece.created_at, ContentPiece.id)
        .limit(limit)
    )
    if statuses:
        stmt = stmt.where(ContentPiece.status.in_(list(statuses)))
    return (await session.execute(stmt)).scalars().all()


async def update_content_piece(session: AsyncSession, piece_id: uuid.UUID, **values: Any) -> bool:
    """Set columns on a draft; False when it does not exist.

    Not its status: every status change is a declared transition (services.status_machine).
    """
    if "status" in values:
        raise ValueError("change a draft's status through services.status_machine")
    result = await session.execute(
        update(ContentPiece).where(ContentPiece.id == piece_id).values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_content_piece(session: AsyncSession, piece_id: uuid.UUID) -> bool:
    """Delete a draft that has no audit log; False when it does not exist."""
    result = await session.execute(delete(ContentPiece).where(ContentPiece.id == piece_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_version(
    session: AsyncSession,
    piece_id: uuid.UUID,
    *,
    version: int,
    generated_text: dict[str, Any],
    feedback: str | None,
    writer: str | None,
    warnings: list[Any] | None,
    usage_tokens: int | None = None,
) -> ContentVersion:
    """Record one more version of a draft."""
    row = ContentVersion(
        content_piece_id=piece_id,
        version=version,
        generated_text=generated_text,
        feedback=feedback,
        writer=writer,
        warnings=warnings or [],
        usage_tokens=usage_tokens,
    )
    session.add(row)
    await session.flush()
    return row


async def list_versions(session: AsyncSession, piece_id: uuid.UUID) -> Sequence[ContentVersion]:
    """Every version of a draft, oldest first."""
    result = await session.execute(
        select(ContentVersion)
        .where(ContentVersion.content_piece_id == piece_id)
        .order_by(ContentVersion.version)
    )
    return result.scalars().all()


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many drafts are in each status."""
    result = await session.execute(
        select(ContentPiece.status, func.count()).group_by(ContentPiece.status)
    )
    return {str(status): int(n) for status, n in result.all()}


async def find_by_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> tuple[uuid.UUID, int] | None:
    """The draft (id, version) shown in this Telegram message, if any."""
    row = (
        await session.execute(
            select(ContentPiece.id, ContentPiece.version).where(
                ContentPiece.telegram_chat_id == chat_id,
                ContentPiece.telegram_message_id == message_id,
            )
        )
    ).first()
    return None if row is None else (row[0], int(row[1]))
