"""The one place `content_pieces.status` is written: it executes a declared transition.

The transitions themselves are declared once, as data, in `services.status_machine`;
this module knows only the vocabulary (`Transition`, `Guard`, `PostsEffect`) and builds
the SQL from a declaration. One builder makes every part of a transition:

    moved   the compare-and-set UPDATE … RETURNING on content_pieces, guarded by the
            from-statuses and the declared guards (version, owner, social post, …)
    logged  the audit row (INSERT … SELECT from the moved row), when one is declared
    posts   the post rows added, cancelled or moved (INSERT/UPDATE … from the moved row)

and two strategies run them. On PostgreSQL the parts are fused into ONE statement of
data-modifying CTEs (atomic by itself, so a tap needs no BEGIN/COMMIT round trips: the bot
runs it on asyncpg with no transaction open, `db.driver`). SQLite has no data-modifying
CTEs; there the very same parts run one after another inside the caller's transaction,
with the moved row read back by id. Both come from the same declaration and the same part
builders, so the two cannot drift.

Reads a transition depends on (the agent's posting slots, the accounts a retry targets)
happen before the write; the write re-checks everything that matters, so a stale read can
only cost a wasted read.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Table,
    Uuid,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.base import utcnow
from db.driver import BatchForm, Executor, any_of, calls_table, fetch_all, per_call
from db.models import Agent, ApprovalLog, ContentPiece, PostSchedule, SocialMediaAccount
from db.status import ContentStatus, ContentType, ScheduleStatus

_pieces = cast(Table, ContentPiece.__table__)
_agents = cast(Table, Agent.__table__)
_accounts = cast(Table, SocialMediaAccount.__table__)
_schedule = cast(Table, PostSchedule.__table__)
_logs = cast(Table, ApprovalLog.__table__)

_APPROVED = ContentStatus.APPROVED_FOR_POSTING.value
_SOCIAL = ContentType.SOCIAL_MEDIA_POST.value
_PENDING = ScheduleStatus.PENDING.value
_SENT = ScheduleStatus.SENT.value
_SUCCESS = ScheduleStatus.SUCCESS.value


class Guard(StrEnum):
    """A condition the write re-checks besides the from-statuses."""

    # The draft is still at the version the agent saw.
    VERSION = "version"
    # The acting agent (by Telegram user or by id) owns the draft and is still active.
    OWNER = "owner"
    # Only a social post: flyer text is never scheduled or published (PRODUCT.md §10).
    SOCIAL_POST = "social_post"
    # The owner's marketing sign-off setting is on / off (as read before the write).
    SIGN_OFF_ON = "sign_off_on"
    SIGN_OFF_OFF = "sign_off_off"
    # None of the draft's posts is being published right now.
    NOTHING_IN_FLIGHT = "nothing_in_flight"
    # None of the draft's posts has gone out or is going out (`sent` or `success`).
    NOTHING_STARTED = "nothing_started"
    # No other approval of the owner planned posting slots since this one read them: the
    # write bumps `agents.slot_plan_version` only if it still holds the value read (the
    # bump and the check are one compare-and-set, so of two racing approvals one loses and
    # reads again). Needs OWNER. PostgreSQL only: SQLite's taps take turns (see _steps).
    SLOTS_AS_READ = "slots_as_read"


class PostsEffect(StrEnum):
    """What a transition does to the draft's post rows."""

    # Add a pending post per (account, time) given, on accounts still active.
    SCHEDULE = "schedule"
    # Cancel its pending posts.
    CANCEL = "cancel"
    # Bring its pending posts forward to the time given.
    MOVE = "move"


# eq=False: each declaration is one object, compared and hashed by identity (cheap as a
# statement cache key on the tap path).
@dataclass(frozen=True, eq=False)
class Transition:
    """One declared status change (the declarations live in services.status_machine)."""

    name: str
    from_statuses: tuple[str, ...]
    to_status: str
    guards: frozenset[Guard] = frozenset()
    # The ApprovalAction logged, or None for a change nobody decided (a publish outcome).
    audit: str | None = None
    # The audit row's feedback when the call gives none.
    audit_feedback: str | None = None
    posts: PostsEffect | None = None

    def __post_init__(self) -> None:
        # Plain strings (not enum members) reach the driver and the statement cache keys.
        object.__setattr__(self, "from_statuses", tuple(str(s) for s in self.from_statuses))
        object.__setattr__(self, "to_status", str(self.to_status))
        if self.audit is not None:
            object.__setattr__(self, "audit", str(self.audit))

    @property
    def audit_from(self) -> str | None:
        """The audit row's from_status: the one from-status, or None when there are several."""
        return self.from_statuses[0] if len(self.from_statuses) == 1 else None


class Increment:
    """A `values` entry that adds one to the column instead of setting it."""


INCREMENT = Increment()


@dataclass(frozen=True)
class Request:
    """One call's arguments to a transition.

    `values`: other columns written with the status (INCREMENT adds one). `schedule`:
    (account, time) pairs for PostsEffect.SCHEDULE; `move_to` for PostsEffect.MOVE.
    Exactly one of `telegram_user_id` (a tap) and `agent_id` (the dashboard) is given
    when the transition has Guard.OWNER.
    """

    piece_id: uuid.UUID
    version: int | None = None
    telegram_user_id: int | None = None
    agent_id: uuid.UUID | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    feedback: str | None = None
    # The audit row's from_status when the caller read it under lock (a transition from
    # several statuses otherwise logs None).
    audit_from: str | None = None
    schedule: tuple[tuple[uuid.UUID, datetime], ...] = ()
    move_to: datetime | None = None
    now: datetime | None = None
    # The owner's `slot_plan_version` as the slot read saw it (Guard.SLOTS_AS_READ).
    slot_plan_version: int | None = None


@dataclass(frozen=True)
class Transitioned:
    """What the compare-and-set returned; `posts` = post rows added, cancelled or moved."""

    piece_id: uuid.UUID
    agent_id: uuid.UUID
    listing_id: uuid.UUID
    status: str
    version: int
    content_type: str
    posts: int = 0


def owner_params(
    telegram_user_id: int | None, agent_id: uuid.UUID | None
) -> tuple[bool, dict[str, Any]]:
    """Whose drafts a statement may touch: (by agent id?, the bound parameter).

    Exactly one is given: the Telegram user linked to the agent (a tap), or the agent's id
    (the dashboard).
    """
    if (telegram_user_id is None) == (agent_id is None):
        raise ValueError("give exactly one of telegram_user_id and agent_id")
    if agent_id is not None:
        return True, {"b_agent": agent_id}
    return False, {"b_uid": telegram_user_id}


# --------------------------------------------------------------------------------------
# The parts, built from a declaration
# --------------------------------------------------------------------------------------

_RETURNED = ("id", "agent_id", "listing_id", "status", "version", "content_type")


def _actor(by_agent: bool, calls: Any = None) -> Any:
    """The acting agent's row: by id (the dashboard) or by Telegram user (a tap)."""
    if by_agent:
        return _agents.c.id == per_call(calls, "b_agent")
    return _agents.c.telegram_user_id == per_call(calls, "b_uid")


def _owner_clause(guards: frozenset[Guard], by_agent: bool, calls: Any = None) -> Any:
    """The draft's agent is the actor, still active (and with the sign-off setting read)."""
    owner = select(_agents.c.id).where(_actor(by_agent, calls), _agents.c.is_active.is_(True))
    if Guard.SIGN_OFF_ON in guards:
        owner = owner.where(_agents.c.requires_marketing_approval.is_(True))
    if Guard.SIGN_OFF_OFF in guards:
        owner = owner.where(_agents.c.requires_marketing_approval.is_not(True))
    if calls is not None:
        # Each call's own actor: the calls' row comes from the enclosing UPDATE … FROM.
        owner = owner.correlate_except(_agents)
    return _pieces.c.agent_id.in_(owner.scalar_subquery())


def _nothing_in_flight() -> Any:
    """None of the draft's posts is `sent`, nor claimed by a publisher right now.

    A committed claim is a `sent` row. A claim still in its transaction holds its row's
    lock: the pending rows are locked here (after the draft itself, the order the scrape's
    withdrawal and Post now take too), which waits for such a claim to commit; the row is
    then `sent` and no longer among them, so the two counts differ. On SQLite, where
    writers take turns, there is no claim in flight and both counts are the same.
    """
    piece: Any = bindparam("b_piece_id")
    mine = _schedule.c.content_piece_id == piece
    pending = _schedule.c.status == _PENDING
    locked_piece = _pieces.alias("locked_piece")
    piece_lock = (
        select(locked_piece.c.id)
        .where(locked_piece.c.id == piece)
        .with_for_update(key_share=True)
        .scalar_subquery()
    )
    locked = (
        select(_schedule.c.id)
        .where(_schedule.c.content_piece_id == piece_lock, pending)
        .with_for_update(of=_schedule)
        .subquery("still_pending")
    )
    seen = select(func.count()).select_from(_schedule).where(mine, pending).scalar_subquery()
    still = select(func.count()).select_from(locked).scalar_subquery()
    sent = exists().where(mine, _schedule.c.status == _SENT)
    return and_(~sent, seen == still)


def _nothing_started() -> Any:
    return ~exists().where(
        _schedule.c.content_piece_id == _pieces.c.id,
        any_of(_schedule.c.status, [_SENT, _SUCCESS]),
    )


def _draft_as_seen(t: Transition, calls: Any = None) -> list[Any]:
    """The tapped draft is in a from-status, at the version seen, of the kind allowed."""
    conditions = [
        _pieces.c.id == per_call(calls, "b_piece_id"),
        any_of(_pieces.c.status, t.from_statuses),
    ]
    if Guard.VERSION in t.guards:
        conditions.append(_pieces.c.version == per_call(calls, "b_version"))
    if Guard.SOCIAL_POST in t.guards:
        conditions.append(_pieces.c.content_type == _SOCIAL)
    return conditions


def _slot_turn_statement(t: Transition, by_agent: bool, calls: Any = None) -> Any:
    """Guard.SLOTS_AS_READ: bump the actor's slot_plan_version if it is still the one read,
    and only for a draft the transition would move (a refused tap leaves it alone).

    Two approvals racing on PostgreSQL: the second waits for the first's row lock, then
    re-checks the condition on the committed row, which no longer matches.
    """
    version = _agents.c.slot_plan_version
    draft = exists().where(_pieces.c.agent_id == _agents.c.id, *_draft_as_seen(t, calls))
    if calls is not None:
        draft = draft.correlate_except(_pieces)
    stmt = (
        update(_agents)
        .where(
            _actor(by_agent, calls),
            version == per_call(calls, "b_slot_plan_version"),
            draft,
        )
        # updated_at kept: planning slots is no edit of the agent (and skips its onupdate).
        .values(slot_plan_version=version + 1, updated_at=_agents.c.updated_at)
    )
    # Batched: which call won the agent's row (two calls of one agent: one wins).
    return stmt.returning(_agents.c.id, *(() if calls is None else (calls.c.n,)))


def _cas_statement(
    t: Transition,
    values: tuple[tuple[str, bool], ...],
    by_agent: bool,
    turn: Any = None,
    calls: Any = None,
) -> Any:
    """UPDATE … RETURNING guarded by id, the from-statuses and the declared guards.

    Core statements on the tables with bound parameters, built once per shape: SQLAlchemy
    then skips the ORM layer and reuses each statement's compiled form.
    """
    sets: dict[str, Any] = {"status": literal(t.to_status, _pieces.c.status.type)}
    sets["updated_at"] = per_call(calls, "b_now", _pieces.c.updated_at.type)
    for name, increment in values:
        column = _pieces.c[name]
        sets[name] = column + 1 if increment else per_call(calls, f"v_{name}", column.type)
    stmt = update(_pieces).where(*_draft_as_seen(t, calls))
    if Guard.OWNER in t.guards:
        stmt = stmt.where(_owner_clause(t.guards, by_agent, calls))
    if Guard.NOTHING_IN_FLIGHT in t.guards:
        stmt = stmt.where(_nothing_in_flight())
    if Guard.NOTHING_STARTED in t.guards:
        stmt = stmt.where(_nothing_started())
    if turn is not None and calls is None:
        stmt = stmt.where(_pieces.c.agent_id.in_(select(turn.c.id)))
    elif turn is not None:
        stmt = stmt.where(tuple_(_pieces.c.agent_id, calls.c.n).in_(select(turn.c.id, turn.c.n)))
    returned = [_pieces.c[name] for name in _RETURNED]
    if calls is not None:
        returned.append(calls.c.n)
    return stmt.values(sets).returning(*returned)


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
_SCHEDULE_COLUMNS = ["id", "content_piece_id", "social_media_account_id", "scheduled_at", "status"]


def _log_insert(moved: Any, t: Transition, calls: Any = None) -> Any:
    """The audit row of the moved draft."""
    assert t.audit is not None
    row = select(
        per_call(calls, "log_id", _logs.c.id.type),
        moved.c.id,
        moved.c.agent_id,
        literal(t.audit, _logs.c.action_type.type),
        per_call(calls, "b_now", _logs.c.timestamp.type),
        per_call(calls, "log_feedback", _logs.c.feedback.type),
        per_call(calls, "log_from", _logs.c.from_status.type),
        moved.c.status,
        moved.c.version,
    ).select_from(moved if calls is None else moved.join(calls, calls.c.n == moved.c.n))
    return insert(_logs).from_select(_LOG_COLUMNS, row, include_defaults=False)


def _slots(postgres: bool, batched: bool = False) -> Any:
    """The (id, account, at) rows to schedule: arrays unnested on PostgreSQL (one
    statement for all), one row of bound values per execution on SQLite (executemany).
    Batched, each row also names its call (`n`)."""
    if postgres:
        arrays = [
            bindparam("s_ids", type_=postgresql.ARRAY(Uuid())),
            bindparam("s_accounts", type_=postgresql.ARRAY(Uuid())),
            bindparam("s_times", type_=postgresql.ARRAY(DateTime(timezone=True))),
        ]
        names = ["id", "account", "at"]
        if batched:
            arrays.append(bindparam("rl_n", type_=postgresql.ARRAY(BigInteger())))
            names.append("n")
        return func.unnest(*arrays).table_valued(*names).render_derived()
    return select(
        bindparam("s_id", type_=Uuid()).label("id"),
        bindparam("s_account", type_=Uuid()).label("account"),
        bindparam("s_at", type_=DateTime(timezone=True)).label("at"),
    ).subquery("slots")


def _posts_statement(moved: Any, effect: PostsEffect, postgres: bool, batched: bool = False) -> Any:
    """The post_schedule rows the transition adds (on active accounts, only once the
    draft is approved for posting), cancels or moves."""
    if effect == PostsEffect.SCHEDULE:
        slots = _slots(postgres, batched)
        rows = (
            select(slots.c.id, moved.c.id, slots.c.account, slots.c.at, literal(_PENDING))
            .select_from(moved.join(slots, slots.c.n == moved.c.n if batched else true()))
            .join(
                _accounts,
                and_(_accounts.c.id == slots.c.account, _accounts.c.is_active.is_(True)),
            )
            .where(moved.c.status == _APPROVED)
        )
        return insert(_schedule).from_select(_SCHEDULE_COLUMNS, rows, include_defaults=False)
    assert not batched, "only adding posts is batched"
    values: dict[str, Any] = {"updated_at": bindparam("b_now")}
    if effect == PostsEffect.CANCEL:
        values["status"] = ScheduleStatus.CANCELLED.value
    else:
        values["scheduled_at"] = bindparam("p_at", type_=_schedule.c.scheduled_at.type)
    return (
        update(_schedule)
        .where(
            _schedule.c.content_piece_id.in_(select(moved.c.id)),
            _schedule.c.status == _PENDING,
        )
        .values(values)
    )


# --------------------------------------------------------------------------------------
# The two strategies
# --------------------------------------------------------------------------------------


@functools.cache
def _fused_statement(t: Transition, values: tuple[tuple[str, bool], ...], by_agent: bool) -> Any:
    """PostgreSQL: the compare-and-set and everything it writes, as one statement."""
    turn = None
    if Guard.SLOTS_AS_READ in t.guards:
        turn = _slot_turn_statement(t, by_agent).cte("slot_turn")
    moved = _cas_statement(t, values, by_agent, turn).cte("moved")
    stmt = select(*(moved.c[name] for name in _RETURNED)).select_from(moved)
    if t.audit is not None:
        stmt = stmt.add_cte(_log_insert(moved, t).cte("logged"))
    if t.posts is not None:
        touched = _posts_statement(moved, t.posts, True).returning(_schedule.c.id).cte("posts")
        stmt = stmt.add_columns(select(func.count()).select_from(touched).scalar_subquery())
    return stmt


# Batched, a call's values come as arrays; these are lists already, flattened instead.
_SLOT_LISTS = ("s_ids", "s_accounts", "s_times")


@functools.cache
def _batched_statement(
    t: Transition, values: tuple[tuple[str, bool], ...], by_agent: bool, dialect: Dialect
) -> BatchForm | None:
    """PostgreSQL, the calls that waited for a busy database (db.tap_batches):
    `_fused_statement` for all of them at once, each row still its own compare-and-set.
    None for the transitions that lock post rows or move them (rare taps; they run
    alone)."""
    if Guard.NOTHING_IN_FLIGHT in t.guards or t.posts in (PostsEffect.CANCEL, PostsEffect.MOVE):
        return None
    single = _fused_statement(t, values, by_agent)
    calls = select(calls_table(single, dialect, _SLOT_LISTS)).cte("calls")
    turn = None
    if Guard.SLOTS_AS_READ in t.guards:
        turn = _slot_turn_statement(t, by_agent, calls).cte("slot_turn")
    moved = _cas_statement(t, values, by_agent, turn, calls).cte("moved")
    stmt = select(*(moved.c[name] for name in _RETURNED)).select_from(moved)
    if t.audit is not None:
        stmt = stmt.add_cte(_log_insert(moved, t, calls).cte("logged"))
    if t.posts is not None:
        touched = (
            _posts_statement(moved, t.posts, True, batched=True)
            .returning(_schedule.c.content_piece_id)
            .cte("posts")
        )
        mine = touched.c.content_piece_id == moved.c.id
        stmt = stmt.add_columns(
            select(func.count()).select_from(touched).where(mine).scalar_subquery()
        )
    return BatchForm(stmt.add_columns(moved.c.n), lists=_SLOT_LISTS if t.posts else ())


@functools.cache
def _steps(
    t: Transition, values: tuple[tuple[str, bool], ...], by_agent: bool
) -> tuple[Any, Any, Any]:
    """SQLite: the same parts as `_fused_statement`, to run one after another; the moved
    row is read back by id (the caller's transaction holds it).

    Guard.SLOTS_AS_READ needs no part here: SQLite has one process, whose taps take turns
    from their first read to their commit (`db.session.tap_connection`), so no other
    approval can plan slots between a tap's read and its write.
    """
    moved = (
        select(*(_pieces.c[name] for name in _RETURNED))
        .where(_pieces.c.id == bindparam("b_piece_id"))
        .subquery("moved")
    )
    log = _log_insert(moved, t) if t.audit is not None else None
    posts = _posts_statement(moved, t.posts, False) if t.posts is not None else None
    return _cas_statement(t, values, by_agent), log, posts


def _shape(values: Mapping[str, Any]) -> tuple[tuple[str, bool], ...]:
    return tuple(sorted((name, value is INCREMENT) for name, value in values.items()))


def _params(t: Transition, req: Request) -> tuple[bool, dict[str, Any]]:
    now = req.now or utcnow()
    params: dict[str, Any] = {"b_piece_id": req.piece_id, "b_now": now}
    by_agent = False
    if Guard.OWNER in t.guards:
        by_agent, owner = owner_params(req.telegram_user_id, req.agent_id)
        params.update(owner)
    if Guard.VERSION in t.guards:
        if req.version is None:
            raise ValueError(f"{t.name} needs the version the agent saw")
        params["b_version"] = req.version
    params.update(
        {f"v_{name}": value for name, value in req.values.items() if value is not INCREMENT}
    )
    if t.audit is not None:
        params["log_id"] = uuid.uuid4()
        params["log_feedback"] = req.feedback if req.feedback is not None else t.audit_feedback
        params["log_from"] = req.audit_from if req.audit_from is not None else t.audit_from
    if t.posts == PostsEffect.MOVE:
        if req.move_to is None:
            raise ValueError(f"{t.name} needs move_to")
        params["p_at"] = req.move_to
    if Guard.SLOTS_AS_READ in t.guards:
        if req.slot_plan_version is None:
            raise ValueError(f"{t.name} needs the slot_plan_version its slot read saw")
        params["b_slot_plan_version"] = req.slot_plan_version
    return by_agent, params


async def apply(conn: Executor, t: Transition, req: Request) -> Transitioned | None:
    """Apply the transition `t` to one draft; None when its guards refused (nothing changed).

    On PostgreSQL this is one statement (atomic without a transaction); elsewhere the
    same parts run one after another and need the caller's transaction.
    """
    by_agent, params = _params(t, req)
    shape = _shape(req.values)
    if conn.dialect.name != "postgresql":
        assert isinstance(conn, AsyncConnection), "SQLite runs through SQLAlchemy"
        return await _apply_in_steps(conn, t, req, shape, by_agent, params)
    if t.posts == PostsEffect.SCHEDULE:
        params["s_ids"] = [uuid.uuid4() for _ in req.schedule]
        params["s_accounts"] = [account for account, _ in req.schedule]
        params["s_times"] = [at for _, at in req.schedule]
    batch = _batched_statement(t, shape, by_agent, conn.dialect)
    rows = await fetch_all(conn, _fused_statement(t, shape, by_agent), params, batch)
    if not rows:
        return None
    row = rows[0]
    posts = int(row[6]) if t.posts is not None else 0
    return Transitioned(row[0], row[1], row[2], str(row[3]), int(row[4]), str(row[5]), posts)


async def _apply_in_steps(
    conn: AsyncConnection,
    t: Transition,
    req: Request,
    shape: tuple[tuple[str, bool], ...],
    by_agent: bool,
    params: dict[str, Any],
) -> Transitioned | None:
    cas, log, posts_stmt = _steps(t, shape, by_agent)
    row = (await conn.execute(cas, params)).first()
    if row is None:
        return None
    if log is not None:
        await conn.execute(log, params)
    posts = 0
    if posts_stmt is not None and t.posts == PostsEffect.SCHEDULE:
        if req.schedule:
            many = [
                {**params, "s_id": uuid.uuid4(), "s_account": account, "s_at": at}
                for account, at in req.schedule
            ]
            posts = int((await conn.execute(posts_stmt, many)).rowcount)
    elif posts_stmt is not None:
        posts = int((await conn.execute(posts_stmt, params)).rowcount)
    return Transitioned(row[0], row[1], row[2], str(row[3]), int(row[4]), str(row[5]), posts)


async def apply_in(session: AsyncSession, t: Transition, req: Request) -> Transitioned | None:
    """`apply` inside a unit of work's session."""
    return await apply(await session.connection(), t, req)
