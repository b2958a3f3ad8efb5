"""The reads around a button tap, and who is giving feedback on which draft.

The tap's write itself is a declared transition (`services.status_machine`) executed by
`db.repositories.transitions`. Reads here (the agent's posting slots and sign-off setting,
why a tap was refused) come before that write; the write re-checks what matters.
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
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import utcnow
from db.driver import BatchForm, Executor, any_of, calls_table, fetch_all, per_call
from db.models import (
    Agent,
    ContentPiece,
    PendingFeedback,
    PostSchedule,
    SocialMediaAccount,
)
from db.repositories import transitions
from db.status import ScheduleStatus

_pieces = cast(Table, ContentPiece.__table__)
_agents = cast(Table, Agent.__table__)
_accounts = cast(Table, SocialMediaAccount.__table__)
_schedule = cast(Table, PostSchedule.__table__)
_feedback = cast(Table, PendingFeedback.__table__)

# The tapping Telegram user's agent id, if that agent is active: a deactivated agent can
# no longer act on a draft (approve, post, retry, revise, reject, cancel).
_ACTIVE_OWNER = select(_agents.c.id).where(
    _agents.c.telegram_user_id == bindparam("b_uid"), _agents.c.is_active.is_(True)
)
_PENDING = ScheduleStatus.PENDING.value


@dataclass(frozen=True)
class PieceState:
    """Why a compare-and-set did not apply."""

    status: str
    version: int
    owner_telegram_user_id: int | None
    content_type: str
    owner_active: bool
    owner_agent_id: uuid.UUID | None = None


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
    # The tapped draft's content type; None when it does not exist.
    piece_content_type: str | None = None
    # Whether the agent's approvals go to marketing sign-off first.
    requires_marketing_approval: bool = False
    # The agent's slot_plan_version as read: the approval's write re-checks it.
    slot_plan_version: int = 0


# --------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------

_CONTEXT_COLUMNS = (
    _agents.c.timezone,
    _agents.c.posting_times,
    _accounts.c.id,
    _accounts.c.platform,
    _accounts.c.display_name,
    _accounts.c.account_id,
    _schedule.c.scheduled_at,
    _agents.c.requires_marketing_approval,
    _agents.c.slot_plan_version,
)


@functools.cache
def _context_statement(by_agent: bool = False) -> Select[Any]:
    """agent ⟕ its active accounts ⟕ their future pending/sent posts, by Telegram user
    (or by agent id), with the tapped draft's content type on every row."""
    return _context_select(by_agent, None)


@functools.cache
def _batched_context(by_agent: bool, dialect: Dialect) -> BatchForm:
    """`_context_statement` for the calls that waited for a busy database (db.tap_batches)."""
    calls = calls_table(_context_statement(by_agent), dialect)
    return BatchForm(_context_select(by_agent, calls))


def _context_select(by_agent: bool, calls: Any) -> Select[Any]:
    future = and_(
        _schedule.c.social_media_account_id == _accounts.c.id,
        any_of(_schedule.c.status, [ScheduleStatus.PENDING.value, ScheduleStatus.SENT.value]),
        _schedule.c.scheduled_at >= per_call(calls, "now", _schedule.c.scheduled_at.type),
    )
    active = and_(_accounts.c.agent_id == _agents.c.id, _accounts.c.is_active.is_(True))
    kind = select(_pieces.c.content_type).where(_pieces.c.id == per_call(calls, "piece_id"))
    actor = (
        _agents.c.id == per_call(calls, "b_agent")
        if by_agent
        else _agents.c.telegram_user_id == per_call(calls, "b_uid")
    )
    agents: Any = _agents
    columns: tuple[Any, ...]
    if calls is None:
        columns = (*_CONTEXT_COLUMNS, kind.scalar_subquery().label("piece_content_type"))
        order: tuple[Any, ...] = ()
    else:
        kind = kind.correlate_except(_pieces)
        columns = (*_CONTEXT_COLUMNS, kind.scalar_subquery().label("piece_content_type"), calls.c.n)
        agents = calls.join(_agents, actor)
        order = (calls.c.n,)
    stmt = select(*columns).select_from(
        agents.outerjoin(_accounts, active).outerjoin(_schedule, future)
    )
    if calls is None:
        stmt = stmt.where(actor)
    return stmt.order_by(*order, _accounts.c.platform, _accounts.c.created_at)


def _context_from_rows(rows: Iterable[Sequence[Any]]) -> ScheduleContext | None:
    found = False
    tz: str | None = None
    times: list[str] | None = None
    kind: str | None = None
    sign_off = False
    plan_version = 0
    accounts: dict[uuid.UUID, AccountSlots] = {}
    for tz_, times_, acc_pk, platform, name, acc_id, slot, sign_off_, plan_, kind_ in rows:
        found, tz, times, kind, sign_off = True, tz_, times_, kind_, bool(sign_off_)
        plan_version = int(plan_)
        if acc_pk is None:
            continue
        acc = accounts.get(acc_pk)
        if acc is None:
            acc = accounts[acc_pk] = AccountSlots(acc_pk, platform, name, acc_id, [])
        if slot is not None:
            acc.occupied.append(slot)
    if not found:
        return None
    return ScheduleContext(
        timezone=tz,
        posting_times=times,
        accounts=list(accounts.values()),
        piece_content_type=None if kind is None else str(kind),
        requires_marketing_approval=sign_off,
        slot_plan_version=plan_version,
    )


async def schedule_context(
    conn: Executor,
    telegram_user_id: int | None,
    now: datetime,
    piece_id: uuid.UUID,
    agent_id: uuid.UUID | None = None,
) -> ScheduleContext | None:
    """The tapping agent's zone and posting times, active accounts and their taken slots,
    and the content type of the draft `piece_id`.

    One query; None when the Telegram user (or agent id) is no agent.
    """
    by_agent, params = transitions.owner_params(telegram_user_id, agent_id)
    rows = await fetch_all(
        conn,
        _context_statement(by_agent),
        {**params, "now": now, "piece_id": piece_id},
        _batched_context(by_agent, conn.dialect),
    )
    return _context_from_rows(rows)


_PIECE_STATE = (
    select(
        _pieces.c.status,
        _pieces.c.version,
        _agents.c.telegram_user_id,
        _pieces.c.content_type,
        _agents.c.is_active,
        _pieces.c.agent_id,
    )
    .select_from(_pieces.join(_agents, _agents.c.id == _pieces.c.agent_id))
    .where(_pieces.c.id == bindparam("piece_id"))
)


async def piece_state(conn: Executor, piece_id: uuid.UUID) -> PieceState | None:
    """The draft's status, version, owner and content type (to explain a refused tap)."""
    rows = await fetch_all(conn, _PIECE_STATE, {"piece_id": piece_id})
    if not rows:
        return None
    status, version, owner, kind, active, agent_id = rows[0]
    return PieceState(str(status), int(version), owner, str(kind), bool(active), agent_id)


_POST_COUNTS = (
    select(_schedule.c.status, func.count())
    .where(_schedule.c.content_piece_id == bindparam("piece_id"))
    .group_by(_schedule.c.status)
)


async def post_counts(conn: Executor, piece_id: uuid.UUID) -> dict[str, int]:
    """How many of the draft's posts are in each post_schedule status."""
    rows = await fetch_all(conn, _POST_COUNTS, {"piece_id": piece_id})
    return {str(status): int(count) for status, count in rows}


_SUCCEEDED = select(_schedule.c.social_media_account_id).where(
    _schedule.c.content_piece_id == bindparam("piece_id"),
    _schedule.c.status == ScheduleStatus.SUCCESS.value,
)
_FAILED_ACCOUNTS = (
    select(_schedule.c.social_media_account_id)
    .where(
        _schedule.c.content_piece_id == bindparam("piece_id"),
        any_of(_schedule.c.status, [ScheduleStatus.FAILED.value, ScheduleStatus.CANCELLED.value]),
        _schedule.c.social_media_account_id.not_in(_SUCCEEDED.scalar_subquery()),
    )
    .distinct()
)


async def failed_account_ids(conn: Executor, piece_id: uuid.UUID) -> list[uuid.UUID]:
    """Accounts where this draft failed (or was cancelled by a disconnect) and never posted.

    A draft only reaches Retry through posting_failed, so a cancelled row here comes from
    an account disconnected before it posted, never from the agent's Cancel.
    """
    rows = await fetch_all(conn, _FAILED_ACCOUNTS, {"piece_id": piece_id})
    return [row[0] for row in rows]


_INSERT_SCHEDULE = insert(_schedule)


async def insert_schedule_rows(
    conn: AsyncConnection, piece_id: uuid.UUID, slots: Sequence[tuple[uuid.UUID, datetime]]
) -> None:
    """One pending post_schedule row per (account, time), in one statement."""
    if not slots:
        return
    await conn.execute(
        _INSERT_SCHEDULE,
        [
            {
                "id": uuid.uuid4(),
                "content_piece_id": piece_id,
                "social_media_account_id": account_pk,
                "scheduled_at": at,
                "status": _PENDING,
            }
            for account_pk, at in slots
        ],
    )


# --------------------------------------------------------------------------------------
# Revise: who is giving feedback on which draft
# --------------------------------------------------------------------------------------


def _upsert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@functools.cache
def _await_feedback_statement(dialect: str, actionable: tuple[str, ...]) -> Any:
    source = select(_pieces.c.agent_id, _pieces.c.id, _pieces.c.version).where(
        _pieces.c.id == bindparam("piece_id"),
        _pieces.c.version == bindparam("version"),
        any_of(_pieces.c.status, actionable),
        _pieces.c.agent_id.in_(_ACTIVE_OWNER.scalar_subquery()),
    )
    stmt = _upsert(dialect)(_feedback).from_select(
        ["agent_id", "content_piece_id", "version"], source
    )
    return stmt.on_conflict_do_update(
        index_elements=[_feedback.c.agent_id],
        set_={
            "content_piece_id": stmt.excluded.content_piece_id,
            "version": stmt.excluded.version,
            "created_at": bindparam("now", type_=_feedback.c.created_at.type),
        },
    ).returning(_feedback.c.agent_id)


async def await_feedback(
    conn: Executor,
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
    rows = await fetch_all(
        conn,
        _await_feedback_statement(conn.dialect.name, tuple(actionable)),
        {"b_uid": telegram_user_id, "piece_id": piece_id, "version": version, "now": utcnow()},
    )
    return bool(rows)


_POP_FEEDBACK = (
    delete(_feedback)
    .where(
        _feedback.c.agent_id.in_(
            select(_agents.c.id).where(_agents.c.telegram_user_id == bindparam("uid"))
        )
    )
    .returning(_feedback.c.content_piece_id, _feedback.c.version, _feedback.c.agent_id)
)


async def pop_pending_feedback(
    conn: Executor, telegram_user_id: int
) -> tuple[uuid.UUID, int, uuid.UUID] | None:
    """Take the draft awaiting this user's feedback: (piece id, version, agent id)."""
    rows = await fetch_all(conn, _POP_FEEDBACK, {"uid": telegram_user_id})
    return (rows[0][0], int(rows[0][1]), rows[0][2]) if rows else None
