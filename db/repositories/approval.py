"""The statements behind a button tap, kept few: a tap costs at most four round trips.

Each status change is one compare-and-set UPDATE … RETURNING guarded by the current
status, the version shown on the button and the tapping Telegram user, so two taps
at once produce one transition and a forged or stale tap changes nothing.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    delete,
    insert,
    literal,
    select,
    update,
)
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


# The hot path below runs on every tap. Its statements are Core statements on the tables
# (not the ORM entities) built once with bound parameters: SQLAlchemy then skips the ORM
# bulk-persistence layer and reuses each statement's cache key, which roughly halves the
# Python time of a tap. The SQL sent is the same.
_pieces = cast(Table, ContentPiece.__table__)
_agents = cast(Table, Agent.__table__)
_accounts = cast(Table, SocialMediaAccount.__table__)
_schedule = cast(Table, PostSchedule.__table__)
_logs = cast(Table, ApprovalLog.__table__)


@functools.cache
def _cas_statement(approve: bool, extra_columns: tuple[str, ...]) -> Update:
    """UPDATE … RETURNING guarded by id, version, status and owner (cached per shape)."""
    target: Any
    if approve:
        needs_marketing = (
            select(_agents.c.requires_marketing_approval)
            .where(_agents.c.id == _pieces.c.agent_id)
            .scalar_subquery()
        )
        target = case(
            (needs_marketing.is_(True), ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL.value),
            else_=ContentStatus.APPROVED_FOR_POSTING.value,
        )
    else:
        target = bindparam("b_to_status", type_=_pieces.c.status.type)
    owner = select(_agents.c.id).where(_agents.c.telegram_user_id == bindparam("b_uid"))
    values: dict[str, Any] = {"status": target, "updated_at": bindparam("b_now")}
    values.update({name: bindparam(f"b_{name}") for name in extra_columns})
    return (
        update(_pieces)
        .where(
            _pieces.c.id == bindparam("b_piece_id"),
            _pieces.c.version == bindparam("b_version"),
            _pieces.c.status.in_(bindparam("b_from", expanding=True)),
            _pieces.c.agent_id.in_(owner.scalar_subquery()),
        )
        .values(values)
        .returning(
            _pieces.c.id,
            _pieces.c.agent_id,
            _pieces.c.listing_id,
            _pieces.c.status,
            _pieces.c.version,
        )
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
    if not approve and to_status is None:
        raise ValueError("to_status is required unless approve=True")
    extra = values or {}
    stmt = _cas_statement(approve, tuple(sorted(extra)))
    params: dict[str, Any] = {
        "b_piece_id": piece_id,
        "b_version": version,
        "b_uid": telegram_user_id,
        "b_from": list(from_statuses),
        "b_now": utcnow(),
    }
    if not approve:
        params["b_to_status"] = to_status
    params.update({f"b_{name}": value for name, value in extra.items()})
    row = (await session.execute(stmt, params)).first()
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


_INSERT_LOG = insert(_logs)


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
        _INSERT_LOG,
        {
            "id": uuid.uuid4(),
            "content_piece_id": piece_id,
            "agent_id": agent_id,
            "action_type": action_type,
            "from_status": from_status,
            "to_status": to_status,
            "version": version,
            "feedback": feedback,
        },
    )


_CONTEXT_COLUMNS = (
    _agents.c.timezone,
    _agents.c.posting_times,
    _accounts.c.id,
    _accounts.c.platform,
    _accounts.c.display_name,
    _accounts.c.account_id,
    _schedule.c.scheduled_at,
)


def _with_accounts_and_slots(source: Any, now_param: str) -> Any:
    """`source` ⟕ the agent's active accounts ⟕ their future pending/sent posts."""
    future = and_(
        _schedule.c.social_media_account_id == _accounts.c.id,
        _schedule.c.status.in_([ScheduleStatus.PENDING.value, ScheduleStatus.SENT.value]),
        _schedule.c.scheduled_at >= bindparam(now_param, type_=_schedule.c.scheduled_at.type),
    )
    active = and_(_accounts.c.agent_id == _agents.c.id, _accounts.c.is_active.is_(True))
    return source.outerjoin(_accounts, active).outerjoin(_schedule, future)


def _schedule_context_statement() -> Select[Any]:
    return (
        select(*_CONTEXT_COLUMNS)
        .select_from(_with_accounts_and_slots(_agents, "now"))
        .where(_agents.c.id == bindparam("agent_id"))
        .order_by(_accounts.c.platform, _accounts.c.created_at)
    )


def _context_from_rows(rows: Iterable[Sequence[Any]]) -> ScheduleContext:
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


_SCHEDULE_CONTEXT = _schedule_context_statement()


async def schedule_context(
    session: AsyncSession, agent_id: uuid.UUID, now: datetime
) -> ScheduleContext:
    """The agent's zone and posting times, active accounts and their taken slots.

    One query: agents ⟕ active accounts ⟕ their future pending/sent posts.
    """
    rows = (await session.execute(_SCHEDULE_CONTEXT, {"agent_id": agent_id, "now": now})).all()
    return _context_from_rows(rows)


_INSERT_SCHEDULE = insert(_schedule)


async def insert_schedule_rows(
    session: AsyncSession, piece_id: uuid.UUID, slots: Sequence[tuple[uuid.UUID, datetime]]
) -> None:
    """One pending post_schedule row per (account, time), in one statement."""
    if not slots:
        return
    await session.execute(
        _INSERT_SCHEDULE,
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


@dataclass(frozen=True)
class LogEntry:
    """The audit row a transition writes; its action may depend on the status reached."""

    action_type: str
    from_status: str | None
    feedback: str | None = None
    # (status reached, action) pairs that override `action_type`.
    action_by_status: tuple[tuple[str, str], ...] = ()

    def action_for(self, status: str) -> str:
        """The action to log when the draft reached `status`."""
        return dict(self.action_by_status).get(status, self.action_type)


@dataclass(frozen=True)
class Moved:
    """A transition that applied, with the schedule context when it was asked for."""

    transitioned: Transitioned
    context: ScheduleContext | None


_LOG_COLUMNS = [
    "id",
    "content_piece_id",
    "agent_id",
    "action_type",
    "timestamp",
    "feedback",
    "from_status",
    "to_status",
    "version",
]


@functools.cache
def _transition_statement(
    approve: bool,
    extra_columns: tuple[str, ...],
    action_type: str,
    action_by_status: tuple[tuple[str, str], ...],
    with_context: bool,
) -> Select[Any]:
    """PostgreSQL: compare-and-set, audit row and schedule context in one statement.

    WITH moved AS (UPDATE … RETURNING …), logged AS (INSERT … SELECT … FROM moved)
    SELECT moved.* [⋈ agent ⟕ accounts ⟕ future posts]. No row: nothing changed.
    """
    moved = _cas_statement(approve, extra_columns).cte("moved")
    action: Any = (
        case(dict(action_by_status), value=moved.c.status, else_=action_type)
        if action_by_status
        else literal(action_type, _logs.c.action_type.type)
    )
    log_row = select(
        bindparam("log_id", type_=_logs.c.id.type),
        moved.c.id,
        moved.c.agent_id,
        action,
        bindparam("log_at", type_=_logs.c.timestamp.type),
        bindparam("log_feedback", type_=_logs.c.feedback.type),
        bindparam("log_from", type_=_logs.c.from_status.type),
        moved.c.status,
        bindparam("log_version", type_=_logs.c.version.type),
    )
    logged = insert(_logs).from_select(_LOG_COLUMNS, log_row, include_defaults=False).cte("logged")
    columns = [moved.c.id, moved.c.agent_id, moved.c.listing_id, moved.c.status, moved.c.version]
    if not with_context:
        return select(*columns).add_cte(logged)
    source = moved.join(_agents, _agents.c.id == moved.c.agent_id)
    return (
        select(*columns, *_CONTEXT_COLUMNS)
        .select_from(_with_accounts_and_slots(source, "ctx_now"))
        .order_by(_accounts.c.platform, _accounts.c.created_at)
        .add_cte(logged)
    )


async def transition(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int,
    from_statuses: Sequence[str],
    log: LogEntry,
    to_status: str | None = None,
    approve: bool = False,
    values: dict[str, Any] | None = None,
    context_if: str | None = None,
    now: datetime | None = None,
) -> Moved | None:
    """A compare-and-set with its audit row, and the schedule context if wanted.

    Does `compare_and_set_status`, then writes `log`, then, when the draft reached
    `context_if`, reads the agent's `schedule_context` at `now`. None when nothing
    changed. On PostgreSQL this is one statement (one round trip instead of three);
    elsewhere the same statements run one after another.
    """
    if not approve and to_status is None:
        raise ValueError("to_status is required unless approve=True")
    if context_if is not None and now is None:
        raise ValueError("now is required with context_if")
    extra = values or {}
    if session.get_bind().dialect.name != "postgresql":
        moved = await compare_and_set_status(
            session,
            piece_id=piece_id,
            version=version,
            telegram_user_id=telegram_user_id,
            from_statuses=from_statuses,
            to_status=to_status,
            approve=approve,
            values=extra,
        )
        if moved is None:
            return None
        await insert_log(
            session,
            piece_id=piece_id,
            agent_id=moved.agent_id,
            action_type=log.action_for(moved.status),
            from_status=log.from_status,
            to_status=moved.status,
            version=version,
            feedback=log.feedback,
        )
        ctx = None
        if context_if is not None and moved.status == context_if:
            assert now is not None
            ctx = await schedule_context(session, moved.agent_id, now)
        return Moved(moved, ctx)
    stmt = _transition_statement(
        approve, tuple(sorted(extra)), log.action_type, log.action_by_status, context_if is not None
    )
    params: dict[str, Any] = {
        "b_piece_id": piece_id,
        "b_version": version,
        "b_uid": telegram_user_id,
        "b_from": list(from_statuses),
        "b_now": utcnow(),
        "log_id": uuid.uuid4(),
        "log_at": utcnow(),
        "log_feedback": log.feedback,
        "log_from": log.from_status,
        "log_version": version,
    }
    if not approve:
        params["b_to_status"] = to_status
    if context_if is not None:
        params["ctx_now"] = now
    params.update({f"b_{name}": value for name, value in extra.items()})
    rows = (await session.execute(stmt, params)).all()
    if not rows:
        return None
    first = rows[0]
    moved = Transitioned(first[0], first[1], first[2], str(first[3]), int(first[4]))
    ctx = (
        _context_from_rows(row[5:] for row in rows)
        if context_if is not None and moved.status == context_if
        else None
    )
    return Moved(moved, ctx)


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
    """Accounts where this draft failed (or was cancelled by a disconnect) and never posted.

    A draft only reaches Retry through posting_failed, so a cancelled row here comes from
    an account disconnected before it posted, never from the agent's Cancel.
    """
    succeeded = select(PostSchedule.social_media_account_id).where(
        PostSchedule.content_piece_id == piece_id,
        PostSchedule.status == ScheduleStatus.SUCCESS.value,
    )
    result = await session.execute(
        select(PostSchedule.social_media_account_id)
        .where(
            PostSchedule.content_piece_id == piece_id,
            PostSchedule.status.in_([ScheduleStatus.FAILED.value, ScheduleStatus.CANCELLED.value]),
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
