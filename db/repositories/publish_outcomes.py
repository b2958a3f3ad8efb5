"""Recording a post's outcome: success, final failure, back to `pending` for a retry, and
the piece read (and row-locked) to decide what the agent is told.

Each outcome is a guarded UPDATE from `sent` that returns how many other posts of the
piece still wait, so the last post to finish knows it is the last.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, ContentPiece, Listing, PostSchedule, SocialMediaAccount
from db.repositories.publish_claims import PENDING, SENT
from db.repositories.publish_claims import POSTS_TABLE as _posts
from db.status import ScheduleStatus

# Core table: statements built once with bound parameters, run without the ORM layer.

SUCCESS = ScheduleStatus.SUCCESS.value
FAILED = ScheduleStatus.FAILED.value
CANCELLED = ScheduleStatus.CANCELLED.value


@dataclass(frozen=True)
class PieceForOutcome:
    """A content piece, row-locked while one of its posts gets an outcome."""

    piece_id: uuid.UUID
    status: str
    version: int
    agent: Agent
    listing_address: str


@dataclass(frozen=True)
class PostOutcome:
    """One post of a piece, for deciding whether the piece is done."""

    account_pk: uuid.UUID
    platform: str
    account_name: str
    status: str
    permalink: str | None


@dataclass(frozen=True)
class Finished:
    """A post that got its outcome, and how many other posts of its piece still wait."""

    piece_id: uuid.UUID
    others_waiting: int


@functools.cache
def _finish_statement(columns: tuple[str, ...]) -> Any:
    sibling = _posts.alias("sibling")
    piece: Any = bindparam("f_piece")
    waiting = (
        select(func.count())
        .select_from(sibling)
        .where(
            sibling.c.content_piece_id == piece,
            sibling.c.id != bindparam("f_id"),
            sibling.c.status.in_([PENDING, SENT]),
        )
        .scalar_subquery()
    )
    return (
        update(_posts)
        .where(_posts.c.id == bindparam("f_id"), _posts.c.status == SENT)
        .values({name: bindparam(f"v_{name}", type_=_posts.c[name].type) for name in columns})
        .returning(_posts.c.content_piece_id, waiting)
    )


async def _finish(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    piece_id: uuid.UUID,
    now: datetime,
    **values: Any,
) -> Finished | None:
    """Move a `sent` post to its outcome; None if it was not `sent` any more.

    The count of the piece's other waiting posts comes back in the same statement; it is
    exact when the caller holds the piece's lock (PostgreSQL) or the write lock (SQLite).
    """
    values["updated_at"] = now
    columns = tuple(sorted(values))
    params = {f"v_{k}": v for k, v in values.items()}
    row = (
        await session.execute(
            _finish_statement(columns), {"f_id": schedule_id, "f_piece": piece_id, **params}
        )
    ).first()
    return None if row is None else Finished(row[0], int(row[1]))


async def record_success(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    *,
    piece_id: uuid.UUID,
    platform_post_id: str,
    permalink: str | None,
    now: datetime,
) -> Finished | None:
    """The platform published it (None if the post was not `sent` any more)."""
    return await _finish(
        session,
        schedule_id,
        piece_id,
        now,
        status=SUCCESS,
        platform_post_id=platform_post_id,
        permalink=permalink,
        posted_at=now,
        error_message=None,
    )


async def record_failure(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    *,
    piece_id: uuid.UUID,
    error_message: str,
    now: datetime,
) -> Finished | None:
    """The post failed for good (None if it was not `sent` any more)."""
    return await _finish(
        session, schedule_id, piece_id, now, status=FAILED, error_message=error_message
    )


async def requeue(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    *,
    at: datetime,
    error_message: str,
    now: datetime,
) -> bool:
    """Nothing was published and a later attempt may work: back to `pending` at `at`."""
    result = await session.execute(
        update(PostSchedule)
        .where(PostSchedule.id == schedule_id, PostSchedule.status == SENT)
        .values(
            status=PENDING,
            scheduled_at=at,
            error_message=error_message,
            claimed_at=None,
            claimed_by=None,
            lease_until=None,
            platform_call_at=None,
            container_id=None,
            container_created_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


_LOCK_PIECE = (
    select(ContentPiece.status, ContentPiece.version, Agent, Listing.address)
    .join(Agent, Agent.id == ContentPiece.agent_id)
    .join(Listing, Listing.id == ContentPiece.listing_id)
    .where(ContentPiece.id == bindparam("l_piece"))
    .with_for_update(of=ContentPiece, key_share=True)
)


async def lock_piece(session: AsyncSession, piece_id: uuid.UUID) -> PieceForOutcome | None:
    """The piece, its agent and listing address; the piece row stays locked (PostgreSQL).

    On PostgreSQL, take it before changing one of the piece's posts: outcomes of one
    piece's posts are then decided one after the other, and the last post to finish
    always sees every other post's outcome. FOR NO KEY UPDATE: a claim of another post of
    the piece (FOR KEY SHARE) goes ahead meanwhile.
    """
    row = (await session.execute(_LOCK_PIECE, {"l_piece": piece_id})).first()
    if row is None:
        return None
    return PieceForOutcome(piece_id, str(row[0]), int(row[1]), row[2], str(row[3]))


async def piece_outcomes(session: AsyncSession, piece_id: uuid.UUID) -> list[PostOutcome]:
    """Every post of the piece that was not cancelled, oldest first."""
    return [
        PostOutcome(r[0], str(r[1]), str(r[2]), str(r[3]), r[4])
        for r in (await session.execute(_PIECE_OUTCOMES, {"o_piece": piece_id})).all()
    ]


_PIECE_OUTCOMES = (
    select(
        PostSchedule.social_media_account_id,
        SocialMediaAccount.platform,
        func.coalesce(SocialMediaAccount.display_name, SocialMediaAccount.account_id),
        PostSchedule.status,
        PostSchedule.permalink,
    )
    .join(SocialMediaAccount, SocialMediaAccount.id == PostSchedule.social_media_account_id)
    .where(PostSchedule.content_piece_id == bindparam("o_piece"), PostSchedule.status != CANCELLED)
    .order_by(SocialMediaAccount.platform, PostSchedule.created_at, PostSchedule.id)
)
