"""Claiming due posts and holding them: the claim (`pending` → `sent`), its lease, taking
over orphans, giving unstarted posts back, and the mark before the visible platform call.

At most once: a post is claimed in its own committed transaction before any platform
call. On PostgreSQL the claim picks rows with `FOR UPDATE SKIP LOCKED`, so several
publisher processes never take the same row; on SQLite (one writer at a time) the guarded
UPDATE is a compare-and-set. Every transaction here starts with a write, so on SQLite it
holds the write lock from its first statement and never fails to upgrade a read.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AppState, ContentPiece, Listing, PostSchedule, SocialMediaAccount
from db.repositories.app_state import PUBLISHING_PAUSED
from db.status import ContentStatus, ScheduleStatus

# Core table: the per-post statements below are built once with bound parameters and run
# without the ORM layer (statement building and ORM bulk handling cost several times the
# round trip of such a small statement).
POSTS_TABLE: Table = PostSchedule.__table__  # type: ignore[assignment]
_posts = POSTS_TABLE

PENDING = ScheduleStatus.PENDING.value
SENT = ScheduleStatus.SENT.value
# How long a claim holds without renewal; the holder renews it every few seconds.
DEFAULT_LEASE = timedelta(seconds=20)
# A post goes out only while its piece is approved: approved_for_posting, or posting_failed
# when another of its posts failed and the rest still go out. A withdrawn or cancelled
# piece (rejected) never publishes, whatever its rows say.
POSTABLE_PIECE: tuple[str, ...] = (
    ContentStatus.APPROVED_FOR_POSTING.value,
    ContentStatus.POSTING_FAILED.value,
)


@dataclass(frozen=True)
class ClaimedPost:
    """A post marked `sent`, with everything needed to publish it."""

    schedule_id: uuid.UUID
    piece_id: uuid.UUID
    agent_id: uuid.UUID
    account_pk: uuid.UUID
    platform: str
    account_id: str
    account_name: str
    account_active: bool
    deactivated_reason: str | None
    token_encrypted: str
    generated_text: dict[str, Any]
    image_urls: list[str]
    attempts: int
    listing_address: str
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    lease_until: datetime | None = None
    platform_call_at: datetime | None = None
    container_id: str | None = None
    container_created_at: datetime | None = None


@dataclass(frozen=True)
class HeldPost:
    """A `sent` post and who holds it until when (None: claimed before leases existed)."""

    schedule_id: uuid.UUID
    holder: str | None
    lease_until: datetime | None


def _due(now: datetime) -> Any:
    return (PostSchedule.status == PENDING) & (PostSchedule.scheduled_at <= now)


def _due_posts(now: datetime) -> Any:
    """Due pending posts whose piece may be published."""
    return (
        select(PostSchedule.id)
        .join(ContentPiece, ContentPiece.id == PostSchedule.content_piece_id)
        .where(_due(now), ContentPiece.status.in_(POSTABLE_PIECE))
    )


async def due_accounts(session: AsyncSession, *, now: datetime, limit: int) -> list[uuid.UUID]:
    """Accounts with due pending posts of approved pieces, the longest-waiting first."""
    stmt = (
        select(PostSchedule.social_media_account_id)
        .join(ContentPiece, ContentPiece.id == PostSchedule.content_piece_id)
        .where(_due(now), ContentPiece.status.in_(POSTABLE_PIECE))
        .group_by(PostSchedule.social_media_account_id)
        .order_by(func.min(PostSchedule.scheduled_at))
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    worker_id: str,
    limit: int = 1,
    account_pk: uuid.UUID | None = None,
    lease_until: datetime | None = None,
) -> list[uuid.UUID]:
    """Mark up to `limit` due pending posts `sent` (of one account, if given); their ids.

    The claim is a lease: `worker_id` holds the rows until `lease_until` (default: now +
    DEFAULT_LEASE) and renews it with `renew_leases` while it publishes.

    Only posts whose piece is still approved (POSTABLE_PIECE), checked in the same
    statement. PostgreSQL: `WITH picked AS MATERIALIZED (SELECT … FOR UPDATE OF posts SKIP
    LOCKED FOR KEY SHARE OF pieces SKIP LOCKED) UPDATE …`. The CTE runs once; a locking
    `IN (SELECT … LIMIT n)` subquery may be re-run by the planner and update more than `n`
    rows. The piece lock makes a claim skip a piece that a scrape withdrawal (FOR UPDATE)
    is rejecting right now, and lets that withdrawal wait for a claim in flight; KEY SHARE
    conflicts with neither another claim nor an outcome being recorded. SQLite: one
    guarded `UPDATE … RETURNING` (a compare-and-set; it also takes the write lock first).
    """
    stmt = _claim_statement(session.get_bind().dialect.name, account_pk is not None)
    params: dict[str, Any] = {
        "c_now": now,
        "c_limit": limit,
        "c_worker": worker_id,
        "c_lease": lease_until or now + DEFAULT_LEASE,
    }
    if account_pk is not None:
        params["c_account"] = account_pk
    return list((await session.execute(stmt, params)).scalars().all())


@functools.cache
def _claim_statement(dialect: str, by_account: bool) -> Any:
    now: Any = bindparam("c_now", type_=PostSchedule.scheduled_at.type)
    pick = _due_posts(now)
    if by_account:
        pick = pick.where(PostSchedule.social_media_account_id == bindparam("c_account"))
    pick = pick.order_by(PostSchedule.scheduled_at, PostSchedule.created_at, PostSchedule.id).limit(
        bindparam("c_limit", type_=Integer())
    )
    target: Any
    if dialect == "postgresql":
        pieces = ContentPiece.__tablename__
        picked = (
            pick.with_for_update(of=PostSchedule, skip_locked=True)
            .suffix_with(f"FOR KEY SHARE OF {pieces} SKIP LOCKED", dialect="postgresql")
            .cte("picked")
            .prefix_with("MATERIALIZED")
        )
        target = _posts.c.id.in_(select(picked.c.id))
    else:
        target = _posts.c.id.in_(pick.scalar_subquery())
    return (
        update(_posts)
        .where(target, _posts.c.status == PENDING)
        .values(
            status=SENT,
            claimed_at=now,
            claimed_by=bindparam("c_worker", type_=_posts.c.claimed_by.type),
            lease_until=bindparam("c_lease", type_=_posts.c.lease_until.type),
            platform_call_at=None,
            container_id=None,
            container_created_at=None,
            attempts=_posts.c.attempts + 1,
            updated_at=now,
        )
        .returning(_posts.c.id)
    )


_PAUSED = select(AppState.value).where(AppState.key == PUBLISHING_PAUSED).scalar_subquery()
_LOAD_CLAIMED = (
    select(
        PostSchedule.id,
        PostSchedule.content_piece_id,
        ContentPiece.agent_id,
        SocialMediaAccount.id,
        SocialMediaAccount.platform,
        SocialMediaAccount.account_id,
        SocialMediaAccount.display_name,
        SocialMediaAccount.is_active,
        SocialMediaAccount.deactivated_reason,
        SocialMediaAccount.access_token_encrypted,
        ContentPiece.generated_text,
        ContentPiece.associated_image_urls,
        PostSchedule.attempts,
        Listing.address,
        _PAUSED,
        PostSchedule.claimed_by,
        PostSchedule.claimed_at,
        PostSchedule.lease_until,
        PostSchedule.platform_call_at,
        PostSchedule.container_id,
        PostSchedule.container_created_at,
    )
    .join(ContentPiece, ContentPiece.id == PostSchedule.content_piece_id)
    .join(SocialMediaAccount, SocialMediaAccount.id == PostSchedule.social_media_account_id)
    .join(Listing, Listing.id == ContentPiece.listing_id)
    .where(PostSchedule.id.in_(bindparam("ids", expanding=True)))
    .order_by(PostSchedule.scheduled_at, PostSchedule.id)
)


async def load_claimed(
    session: AsyncSession, schedule_ids: Sequence[uuid.UUID]
) -> tuple[list[ClaimedPost], bool]:
    """The claimed posts with their piece, account and listing, and whether publishing is
    paused, in one query (a fresh read: a pause committed after the claim is seen)."""
    if not schedule_ids:
        return [], False
    rows = (await session.execute(_LOAD_CLAIMED, {"ids": list(schedule_ids)})).all()
    posts = [
        ClaimedPost(
            schedule_id=r[0],
            piece_id=r[1],
            agent_id=r[2],
            account_pk=r[3],
            platform=str(r[4]),
            account_id=str(r[5]),
            account_name=str(r[6] or r[5]),
            account_active=bool(r[7]),
            deactivated_reason=r[8],
            token_encrypted=str(r[9]),
            generated_text=dict(r[10] or {}),
            image_urls=list(r[11] or []),
            attempts=int(r[12] or 0),
            listing_address=str(r[13]),
            claimed_by=r[15],
            claimed_at=r[16],
            lease_until=r[17],
            platform_call_at=r[18],
            container_id=r[19],
            container_created_at=r[20],
        )
        for r in rows
    ]
    return posts, bool(rows and rows[0][14])


async def stale_sent(session: AsyncSession, *, claimed_before: datetime) -> list[uuid.UUID]:
    """Posts left `sent` without a lease (claimed before leases existed) since before
    `claimed_before`: nothing recorded how far they got, so their outcome is unknown."""
    stmt = select(PostSchedule.id).where(
        PostSchedule.status == SENT,
        PostSchedule.lease_until.is_(None),
        (PostSchedule.claimed_at < claimed_before) | PostSchedule.claimed_at.is_(None),
    )
    return list((await session.execute(stmt)).scalars().all())


# ------------------------------------------------------------------ leases


async def held_posts(session: AsyncSession) -> list[HeldPost]:
    """Every leased `sent` post with its holder and lease (few: only posts in flight)."""
    stmt = select(PostSchedule.id, PostSchedule.claimed_by, PostSchedule.lease_until).where(
        PostSchedule.status == SENT, PostSchedule.lease_until.is_not(None)
    )
    return [HeldPost(r[0], r[1], r[2]) for r in (await session.execute(stmt)).all()]


async def renew_leases(
    session: AsyncSession,
    schedule_ids: Sequence[uuid.UUID],
    *,
    worker_id: str,
    until: datetime,
) -> int:
    """Extend the lease of the holder's `sent` posts among `schedule_ids`; how many."""
    if not schedule_ids:
        return 0
    result = await session.execute(
        update(PostSchedule)
        .where(
            PostSchedule.id.in_(list(schedule_ids)),
            PostSchedule.status == SENT,
            PostSchedule.claimed_by == worker_id,
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def adopt(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    *,
    holder: str | None,
    lease_until: datetime | None,
    worker_id: str,
    until: datetime,
) -> bool:
    """Take over an orphaned `sent` post, compare-and-set on the holder and lease seen.

    False when another process took it first or its holder renewed it meanwhile.
    """
    stmt = update(PostSchedule).where(PostSchedule.id == schedule_id, PostSchedule.status == SENT)
    stmt = stmt.where(
        PostSchedule.claimed_by.is_(None) if holder is None else PostSchedule.claimed_by == holder
    )
    stmt = stmt.where(
        PostSchedule.lease_until.is_(None)
        if lease_until is None
        else PostSchedule.lease_until <= lease_until  # a renewal meanwhile moves it later
    )
    result = await session.execute(
        stmt.values(claimed_by=worker_id, lease_until=until).execution_options(
            synchronize_session=False
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(
    session: AsyncSession, schedule_id: uuid.UUID, *, worker_id: str, now: datetime
) -> bool:
    """Let the holder's lease lapse now, so that a later round looks at the post again."""
    result = await session.execute(
        update(PostSchedule)
        .where(
            PostSchedule.id == schedule_id,
            PostSchedule.status == SENT,
            PostSchedule.claimed_by == worker_id,
        )
        .values(lease_until=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def unclaim(
    session: AsyncSession,
    schedule_ids: Sequence[uuid.UUID],
    *,
    worker_id: str,
    now: datetime,
) -> int:
    """Give the holder's claimed posts back to `pending`, as if never claimed, when no
    platform call was started for them; how many."""
    if not schedule_ids:
        return 0
    result = await session.execute(
        update(PostSchedule)
        .where(
            PostSchedule.id.in_(list(schedule_ids)),
            PostSchedule.status == SENT,
            PostSchedule.claimed_by == worker_id,
            PostSchedule.platform_call_at.is_(None),
        )
        .values(
            status=PENDING,
            attempts=PostSchedule.attempts - 1,
            claimed_at=None,
            claimed_by=None,
            lease_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def mark_platform_call(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    *,
    worker_id: str,
    at: datetime,
    container_id: str | None = None,
    container_created_at: datetime | None = None,
) -> bool:
    """Record, before it is made, the call that makes the post visible (and the Instagram
    container it publishes). False when the holder lost the post: it must not make it."""
    result = await session.execute(
        _MARK_CALL,
        {
            "m_id": schedule_id,
            "m_worker": worker_id,
            "m_at": at,
            "m_container": container_id,
            "m_created": container_created_at,
        },
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


_MARK_CALL = (
    update(_posts)
    .where(
        _posts.c.id == bindparam("m_id"),
        _posts.c.status == SENT,
        _posts.c.claimed_by == bindparam("m_worker"),
    )
    .values(
        platform_call_at=bindparam("m_at", type_=_posts.c.platform_call_at.type),
        container_id=bindparam("m_container", type_=_posts.c.container_id.type),
        container_created_at=bindparam("m_created", type_=_posts.c.container_created_at.type),
    )
)
