"""The statements behind a button tap, kept few: a tap costs at most four round trips.

Each status change is one compare-and-set UPDATE … RETURNING guarded by the current
status, the version shown on the button and the tapping Telegram user, so two taps
at once produce one transition and a forged or stale tap changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import (
    Agent,
    ApprovalLog,
    ContentPiece,
    PendingFeedback,
    PostSchedule,
    SocialMediaAccount,
)
from db.status import ContentStatus, ScheduleStatus


@dataclass(frozen=True)
class Transitioned:
    """What the compare-and-set UPDATE returned."""

    piece_id: uuid.UUID
    agent_id: uuid.UUID
    listing_id: uuid.UUID
    status: str
    version: int


@dataclass(frozen=True)
class PieceState:
    """Why a compare-and-set did not apply."""

    status: str
    version: int
    owner_telegram_user_id: int | None


@dataclass(frozen=True)
class AccountSlots:
    """An active account and the slots it already has taken."""

    account_pk: uuid.UUID
    platform: str
    display_name: str | None
    account_id: str
    occupied: list[datetime]


@dataclass(frozen=True)
class ScheduleContext:
    """What choosing posting slots needs to know about the agent."""

    timezone: str | None
    posting_times: list[str] | None
    accounts: list[AccountSlots]


def _owned_by(telegram_user_id: int) -> Any:
    return ContentPiece.agent_id.in_(
        select(Agent.id).where(Agent.telegram_user_id == telegram_user_id).scalar_subquery()
    )


async def compare_and_set_status(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int,
    from_statuses: Sequence[str],
    to_status: str | None = None,
    approve: bool = False,
    values: dict[str, Any] | None = None,
) -> Transitioned | None:
    """Move a draft to `to_status` if it is still in `from_statuses` at `version`.

    With `approve=True` the target depends on the agent's marketing sign-off setting:
    `pending_external_marketing_approval` when required, else `approved_for_posting`.
    Returns None when nothing changed (stale, decided, not the owner, or unknown).
    """
    if approve:
        needs_marketing = (
            select(Agent.requires_marketing_approval)
            .where(Agent.id == ContentPiece.agent_id)
            .scalar_subquery()
        )
        target: Any = case(
            (needs_marketing.is_(True), ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL.value),
            else_=ContentStatus.APPROVED_FOR_POSTING.value,
        )
    else:
        if to_status is None:
            raise ValueError("to_status is required unless approve=True")
        target = to_status
    now = utcnow()
    stmt = (
        update(ContentPiece)
        .where(
            ContentPiece.id == piece_id,
            ContentPiece.version == version,
            ContentPiece.status.in_(list(from_statuses)),
            _owned_by(telegram_user_id),
        )
        .values(status=target, updated_at=now, **(values or {}))
        .returning(
            ContentPiece.id,
            ContentPiece.agent_id,
            ContentPiece.listing_id,
            ContentPiece.status,
            ContentPiece.version,
        )
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return Transitioned(row[0], row[1], row[2], str(row[3]), int(row[4]))


async def piece_state(session: AsyncSession, piece_id: uuid.UUID) -> PieceState | None:
    """The draft's status, version and owner (used only to explain a refused tap)."""
    row = (
        await session.execute(
            select(ContentPiece.status, ContentPiece.version, Agent.telegram_user_id)
            .join(Agent, Agent.id == ContentPiece.agent_id)
            .where(ContentPiece.id == piece_id)
        )
    ).first()
    return None if row is None else PieceState(str(row[0]), int(row[1]), row[2])


async def insert_log(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    agent_id: uuid.UUID,
    action_type: str,
    from_status: str | None,
    to_status: str,
    version: int,
    feedback: str | None = None,
) -> None:
    """Append one audit row in one statement."""
    await session.execute(
        insert(ApprovalLog).values(
            id=uuid.uuid4(),
            content_piece_id=piece_id,
            agent_id=agent_id,
            action_type=action_type,
            from_status=from_status,
            to_status=to_status,
            version=version,
            feedback=feedback,
        )
    )


async def schedule_context(
    session: AsyncSession, agent_id: uuid.UUID, now: datetime
) -> ScheduleContext:
    """The agent's zone and posting times, active accounts and their taken slots.

    One query: agents ⟕ active accounts ⟕ their future pending/sent posts.
    """
    future = and_(
        PostSchedule.social_media_account_id == SocialMediaAccount.id,
        PostSchedule.status.in_([ScheduleStatus.PENDING.value, ScheduleStatus.SENT.value]),
        PostSchedule.scheduled_at >= now,
    )
    active = and_(SocialMediaAccount.agent_id == Agent.id, SocialMediaAccount.is_active.is_(True))
    stmt = (
        select(
            Agent.timezone,
            Agent.posting_times,
            SocialMediaAccount.id,
            SocialMediaAccount.platform,
            SocialMediaAccount.display_name,
            SocialMediaAccount.account_id,
            PostSchedule.scheduled_at,
        )
        .select_from(Agent)
        .outerjoin(SocialMediaAccount, active)
        .outerjoin(PostSchedule, future)
        .where(Agent.id == agent_id)
        .order_by(SocialMediaAccount.platform, SocialMediaAccount.created_at)
    )
    rows = (await session.execute(stmt)).all()
    tz: str | None = None
    times: list[str] | None = None
    accounts: dict[uuid.UUID, AccountSlots] = {}
    for tz_, times_, acc_pk, platform, name, acc_id, slot in rows:
        tz, times = tz_, times_
        if acc_pk is None:
            continue
        acc = accounts.setdefault(acc_pk, AccountSlots(acc_pk, platform, name, acc_id, []))
        if slot is not None:
            acc.occupied.append(slot)
    return ScheduleContext(timezone=tz, posting_times=times, accounts=list(accounts.values()))


async def insert_schedule_rows(
    session: AsyncSession, piece_id: uuid.UUID, slots: Sequence[tuple[uuid.UUID, datetime]]
) -> None:
    """One pending post_schedule row per (account, time), in one statement."""
    if not slots:
        return
    await session.execute(
        insert(PostSchedule),
        [
            {
                "id": uuid.uuid4(),
                "content_piece_id": piece_id,
                "social_media_account_id": account_pk,
                "scheduled_at": at,
                "status": ScheduleStatus.PENDING.value,
            }
            for account_pk, at in slots
        ],
    )


async def cancel_pending_rows(session: AsyncSession, piece_id: uuid.UUID) -> int:
    """Cancel a draft's posts that have not been sent yet."""
    result = await session.execute(
        update(PostSchedule)
        .where(
            PostSchedule.content_piece_id == piece_id,
            PostSchedule.status == ScheduleStatus.PENDING.value,
        )
        .values(status=ScheduleStatus.CANCELLED.value, updated_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def move_pending_rows_to(session: AsyncSession, piece_id: uuid.UUID, at: datetime) -> int:
    """Bring a draft's pending posts forward to `at` (Post now)."""
    result = await session.execute(
        update(PostSchedule)
        .where(
            PostSchedule.content_piece_id == piece_id,
            PostSchedule.status == ScheduleStatus.PENDING.value,
        )
        .values(scheduled_at=at, updated_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def failed_account_ids(session: AsyncSession, piece_id: uuid.UUID) -> list[uuid.UUID]:
    """Accounts where this draft failed and never succeeded."""
    succeeded = select(PostSchedule.social_media_account_id).where(
        PostSchedule.content_piece_id == piece_id,
        PostSchedule.status == ScheduleStatus.SUCCESS.value,
    )
    result = await session.execute(
        select(PostSchedule.social_media_account_id)
        .where(
            PostSchedule.content_piece_id == piece_id,
            PostSchedule.status == ScheduleStatus.FAILED.value,
            PostSchedule.social_media_account_id.not_in(succeeded),
        )
        .distinct()
    )
    return list(result.scalars().all())


def _upsert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def await_feedback(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int,
    actionable: Sequence[str],
) -> bool:
    """Remember that the agent's next message is feedback on this draft.

    One INSERT … SELECT … ON CONFLICT: nothing is stored unless the draft is the
    tapper's, at this version, in an actionable status.
    """
    ins = _upsert(session.get_bind().dialect.name)
    source = select(
        ContentPiece.agent_id,
        ContentPiece.id,
        ContentPiece.version,
    ).where(
        ContentPiece.id == piece_id,
        ContentPiece.version == version,
        ContentPiece.status.in_(list(actionable)),
        _owned_by(telegram_user_id),
    )
    stmt = ins(PendingFeedback).from_select(["agent_id", "content_piece_id", "version"], source)
    stmt = stmt.on_conflict_do_update(
        index_elements=[PendingFeedback.agent_id],
        set_={
            "content_piece_id": stmt.excluded.content_piece_id,
            "version": stmt.excluded.version,
            "created_at": utcnow(),
        },
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def pop_pending_feedback(
    session: AsyncSession, telegram_user_id: int
) -> tuple[uuid.UUID, int, uuid.UUID] | None:
    """Take the draft awaiting this user's feedback: (piece id, version, agent id)."""
    stmt = (
        delete(PendingFeedback)
        .where(
            PendingFeedback.agent_id.in_(
                select(Agent.id).where(Agent.telegram_user_id == telegram_user_id)
            )
        )
        .returning(
            PendingFeedback.content_piece_id, PendingFeedback.version, PendingFeedback.agent_id
        )
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], int(row[1]), row[2])


async def set_prompt_message(
    session: AsyncSession, piece_id: uuid.UUID, prompt_message_id: int
) -> None:
    """Remember which message asked for the feedback (so replies to it count)."""
    await session.execute(
        update(PendingFeedback)
        .where(PendingFeedback.content_piece_id == piece_id)
        .values(prompt_message_id=prompt_message_id)
    )
