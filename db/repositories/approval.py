"""The statements behind a button tap: on PostgreSQL each transition is ONE statement.

A transition is a compare-and-set UPDATE … RETURNING guarded by the current status, the
version shown on the button and the tapping Telegram user (or, for a dashboard click, the
agent's id), so two taps at once produce one transition and a forged or stale tap changes
nothing. Everything the transition
writes besides the status (its audit row, the posts it schedules, cancels or brings
forward) rides in the same statement as data-modifying CTEs:

    WITH moved  AS (UPDATE content_pieces … RETURNING …),
         logged AS (INSERT INTO approval_logs SELECT … FROM moved),
         posts  AS (INSERT INTO post_schedule SELECT … FROM moved, unnest(…)   -- or
                    UPDATE post_schedule … WHERE content_piece_id IN (SELECT id FROM moved))
    SELECT moved.*, (SELECT count(*) FROM posts) FROM moved

One statement is atomic by itself, so a tap needs no BEGIN/COMMIT round trips: the bot
runs these on asyncpg with no transaction open (`db.session.tap_connection`, `db.driver`).
SQLite has no
data-modifying CTEs; there the same writes run one after another inside a transaction.

Reads that a transition depends on (the agent's posting slots, the accounts a retry
targets) happen before the write; the write re-checks everything that matters (status,
version, owner and owner still active, account still active, a social post when it
schedules, no post in flight when it cancels), so a stale read can only cost a wasted read.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import (
    DateTime,
    Select,
    Table,
    Text,
    Update,
    Uuid,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import utcnow
from db.driver import Executor, any_of, fetch_all
from db.models import (
    Agent,
    ApprovalLog,
    ContentPiece,
    PendingFeedback,
    PostSchedule,
    SocialMediaAccount,
)
from db.status import ContentStatus, ContentType, ScheduleStatus

_pieces = cast(Table, ContentPiece.__table__)
_agents = cast(Table, Agent.__table__)
_accounts = cast(Table, SocialMediaAccount.__table__)
_schedule = cast(Table, PostSchedule.__table__)
_logs = cast(Table, ApprovalLog.__table__)
_feedback = cast(Table, PendingFeedback.__table__)

_APPROVED = ContentStatus.APPROVED_FOR_POSTING.value
# Only a social post is ever scheduled or published; flyer text never is (PRODUCT.md §10).
_SOCIAL = ContentType.SOCIAL_MEDIA_POST.value
_active_account = _accounts.c.is_active.is_(True)
# The tapping Telegram user's agent id, if that agent is active: a deactivated agent can
# no longer act on a draft (approve, post, retry, revise, reject, cancel).
_ACTIVE_OWNER = select(_agents.c.id).where(
    _agents.c.telegram_user_id == bindparam("b_uid"), _agents.c.is_active.is_(True)
)
# Or the agent by id, if active: the dashboard acts as an agent it chose beforehand (the
# signed-in agent, or for an admin the draft's own agent).
_ACTIVE_AGENT = select(_agents.c.id).where(
    _agents.c.id == bindparam("b_agent"), _agents.c.is_active.is_(True)
)
_PENDING = ScheduleStatus.PENDING.value
_SENT = ScheduleStatus.SENT.value


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


PostsEffect = Literal["schedule", "cancel", "move"]


@dataclass(frozen=True)
class Change:
    """Everything one transition writes.

    `to_status=None` with `approve=True`: the target depends on the agent's marketing
    sign-off setting (`pending_external_marketing_approval` or `approved_for_posting`).
    `posts`: "schedule" adds a pending post per `schedule` entry (account, time) when the
    draft reached `approved_for_posting`, on accounts still active; "cancel" cancels its
    pending posts; "move" brings them forward to `move_to`. A transition that schedules or
    moves posts applies only to a social post: flyer text is never published. One that
    cancels applies only while none of the draft's posts is being published (`sent`).
    """

    from_statuses: tuple[str, ...]
    to_status: str | None = None
    approve: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)
    log: LogEntry | None = None
    posts: PostsEffect | None = None
    schedule: tuple[tuple[uuid.UUID, datetime], ...] = ()
    move_to: datetime | None = None

    def __post_init__(self) -> None:
        if not self.approve and self.to_status is None:
            raise ValueError("to_status is required unless approve=True")
        if self.posts == "move" and self.move_to is None:
            raise ValueError("move_to is required with posts='move'")


def _is_postgresql(conn: Executor) -> bool:
    return conn.dialect.name == "postgresql"


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
# Slot turns across processes (PostgreSQL)
# --------------------------------------------------------------------------------------

# Namespaces this lock among the database's advisory locks.
_SLOT_LOCK_SEED = 0x534C4F54  # "SLOT"


def _slot_key(by_agent: bool) -> Any:
    """The agent's advisory-lock key, from its id whichever way the tap names it."""
    if by_agent:
        agent_text = sql_cast(bindparam("b_agent", type_=Uuid()), Text)
        return func.hashtextextended(agent_text, _SLOT_LOCK_SEED), None
    return (
        func.hashtextextended(sql_cast(_agents.c.id, Text), _SLOT_LOCK_SEED),
        _agents.c.telegram_user_id == bindparam("b_uid"),
    )


@functools.cache
def _slot_lock_statement(by_agent: bool, fn: str) -> Select[Any]:
    key, where = _slot_key(by_agent)
    stmt = select(getattr(func, fn)(key).label("locked"))
    return stmt if where is None else stmt.where(where)


async def take_slot_turn(
    conn: Executor, telegram_user_id: int | None, agent_id: uuid.UUID | None
) -> bool:
    """Wait for the agent's turn to pick posting slots, across processes; True when
    `end_slot_turn` must end it.

    PostgreSQL on a tap connection (no transaction, each statement commits alone): a
    session-level advisory lock, held until `end_slot_turn`, after the write committed.
    On a SQLAlchemy connection (always a transaction): `pg_advisory_xact_lock`, released
    by the commit. SQLite: one
    process is the rule, so nothing here (the caller's in-process turn suffices).
    """
    if not _is_postgresql(conn):
        return False
    by_agent, params = owner_params(telegram_user_id, agent_id)
    # SQLAlchemy always runs statements in a transaction (it begins one on first use).
    in_transaction = isinstance(conn, AsyncConnection)
    fn = "pg_advisory_xact_lock" if in_transaction else "pg_advisory_lock"
    await fetch_all(conn, _slot_lock_statement(by_agent, fn), params)
    return not in_transaction


async def end_slot_turn(
    conn: Executor, telegram_user_id: int | None, agent_id: uuid.UUID | None
) -> None:
    """End the turn `take_slot_turn` began on this connection."""
    by_agent, params = owner_params(telegram_user_id, agent_id)
    await fetch_all(conn, _slot_lock_statement(by_agent, "pg_advisory_unlock"), params)


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
    select(_pieces.c.content_type)
    .where(_pieces.c.id == bindparam("piece_id"))
    .scalar_subquery()
    .label("piece_content_type"),
)


@functools.cache
def _context_statement(by_agent: bool = False) -> Select[Any]:
    """agent ⟕ its active accounts ⟕ their future pending/sent posts, by Telegram user
    (or by agent id), with the tapped draft's content type on every row."""
    future = and_(
        _schedule.c.social_media_account_id == _accounts.c.id,
        any_of(_schedule.c.status, [ScheduleStatus.PENDING.value, ScheduleStatus.SENT.value]),
        _schedule.c.scheduled_at >= bindparam("now", type_=_schedule.c.scheduled_at.type),
    )
    active = and_(_accounts.c.agent_id == _agents.c.id, _accounts.c.is_active.is_(True))
    return (
        select(*_CONTEXT_COLUMNS)
        .select_from(_agents.outerjoin(_accounts, active).outerjoin(_schedule, future))
        .where(
            _agents.c.id == bindparam("b_agent")
            if by_agent
            else _agents.c.telegram_user_id == bindparam("b_uid")
        )
        .order_by(_accounts.c.platform, _accounts.c.created_at)
    )


def _context_from_rows(rows: Iterable[Sequence[Any]]) -> ScheduleContext | None:
    found = False
    tz: str | None = None
    times: list[str] | None = None
    kind: str | None = None
    accounts: dict[uuid.UUID, AccountSlots] = {}
    for tz_, times_, acc_pk, platform, name, acc_id, slot, kind_ in rows:
        found, tz, times, kind = True, tz_, times_, kind_
        if acc_pk is None:
            continue
        acc = accounts.setdefault(acc_pk, AccountSlots(acc_pk, platform, name, acc_id, []))
        if slot is not None:
            acc.occupied.append(slot)
    if not found:
        return None
    return ScheduleContext(
        timezone=tz,
        posting_times=times,
        accounts=list(accounts.values()),
        piece_content_type=None if kind is None else str(kind),
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
    by_agent, params = owner_params(telegram_user_id, agent_id)
    rows = await fetch_all(
        conn, _context_statement(by_agent), {**params, "now": now, "piece_id": piece_id}
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


# --------------------------------------------------------------------------------------
# The transition
# --------------------------------------------------------------------------------------


@functools.cache
def _cas_statement(
    approve: bool,
    from_statuses: tuple[str, ...],
    extra_columns: tuple[str, ...],
    social_only: bool = False,
    nothing_in_flight: bool = False,
    by_agent: bool = False,
) -> Update:
    """UPDATE … RETURNING guarded by id, version, status and owner (cached per shape);
    with `social_only`, also by the content type: only a social post may be scheduled;
    with `nothing_in_flight`, by none of the draft's posts being published right now.

    The statements are Core statements on the tables, built once with bound parameters:
    SQLAlchemy then skips the ORM layer and reuses each statement's compiled form.
    """
    target: Any
    if approve:
        needs_marketing = (
            select(_agents.c.requires_marketing_approval)
            .where(_agents.c.id == _pieces.c.agent_id)
            .scalar_subquery()
        )
        target = case(
            (needs_marketing.is_(True), ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL.value),
            else_=_APPROVED,
        )
    else:
        target = bindparam("b_to_status", type_=_pieces.c.status.type)
    values: dict[str, Any] = {"status": target, "updated_at": bindparam("b_now")}
    values.update({name: bindparam(f"b_{name}") for name in extra_columns})
    stmt = update(_pieces).where(
        _pieces.c.id == bindparam("b_piece_id"),
        _pieces.c.version == bindparam("b_version"),
        any_of(_pieces.c.status, from_statuses),
        _pieces.c.agent_id.in_((_ACTIVE_AGENT if by_agent else _ACTIVE_OWNER).scalar_subquery()),
    )
    if social_only:
        stmt = stmt.where(_pieces.c.content_type == _SOCIAL)
    if nothing_in_flight:
        stmt = stmt.where(_nothing_in_flight())
    return stmt.values(values).returning(
        _pieces.c.id,
        _pieces.c.agent_id,
        _pieces.c.listing_id,
        _pieces.c.status,
        _pieces.c.version,
        _pieces.c.content_type,
    )


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


def _social_only(posts: PostsEffect | None) -> bool:
    """Whether the transition schedules or brings forward posts (a social post's only)."""
    return posts in ("schedule", "move")


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


def _posts_cte(moved: Any, effect: PostsEffect) -> Any:
    """The post_schedule rows the transition adds, cancels or moves (RETURNING one column)."""
    if effect == "schedule":
        slots = (
            func.unnest(
                bindparam("s_ids", type_=postgresql.ARRAY(Uuid())),
                bindparam("s_accounts", type_=postgresql.ARRAY(Uuid())),
                bindparam("s_times", type_=postgresql.ARRAY(DateTime(timezone=True))),
            )
            .table_valued("id", "account", "at")
            .render_derived()
        )
        rows = (
            select(slots.c.id, moved.c.id, slots.c.account, slots.c.at, literal(_PENDING))
            .select_from(moved.join(slots, true()))
            .join(_accounts, and_(_accounts.c.id == slots.c.account, _active_account))
            .where(moved.c.status == _APPROVED)
        )
        stmt: Any = insert(_schedule).from_select(_SCHEDULE_COLUMNS, rows, include_defaults=False)
    else:
        values: dict[str, Any] = {"updated_at": bindparam("b_now")}
        if effect == "cancel":
            values["status"] = ScheduleStatus.CANCELLED.value
        else:
            values["scheduled_at"] = bindparam("p_at", type_=_schedule.c.scheduled_at.type)
        stmt = (
            update(_schedule)
            .where(
                _schedule.c.content_piece_id.in_(select(moved.c.id)),
                _schedule.c.status == _PENDING,
            )
            .values(values)
        )
    return stmt.returning(_schedule.c.id).cte("posts")


@functools.cache
def _transition_statement(
    approve: bool,
    from_statuses: tuple[str, ...],
    extra_columns: tuple[str, ...],
    log: tuple[str, tuple[tuple[str, str], ...]] | None,
    posts: PostsEffect | None,
    by_agent: bool = False,
) -> Select[Any]:
    """PostgreSQL: the compare-and-set and everything it writes, as one statement."""
    moved = _cas_statement(
        approve, from_statuses, extra_columns, _social_only(posts), posts == "cancel", by_agent
    ).cte("moved")
    columns: list[Any] = [
        moved.c.id,
        moved.c.agent_id,
        moved.c.listing_id,
        moved.c.status,
        moved.c.version,
        moved.c.content_type,
    ]
    stmt = select(*columns).select_from(moved)
    if log is not None:
        action_type, action_by_status = log
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
            bindparam("b_now", type_=_logs.c.timestamp.type),
            bindparam("log_feedback", type_=_logs.c.feedback.type),
            bindparam("log_from", type_=_logs.c.from_status.type),
            moved.c.status,
            moved.c.version,
        )
        logged = insert(_logs).from_select(_LOG_COLUMNS, log_row, include_defaults=False)
        stmt = stmt.add_cte(logged.cte("logged"))
    if posts is not None:
        touched = _posts_cte(moved, posts)
        stmt = stmt.add_columns(select(func.count()).select_from(touched).scalar_subquery())
    return stmt


def _cas_params(
    piece_id: uuid.UUID, version: int, owner: dict[str, Any], change: Change, now: datetime
) -> dict[str, Any]:
    params: dict[str, Any] = {"b_piece_id": piece_id, "b_version": version, **owner, "b_now": now}
    if not change.approve:
        params["b_to_status"] = change.to_status
    params.update({f"b_{name}": value for name, value in change.values.items()})
    return params


async def transition(
    conn: Executor,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int | None = None,
    agent_id: uuid.UUID | None = None,
    change: Change,
) -> Transitioned | None:
    """Apply `change` if the draft is still in `change.from_statuses` at `version` and
    belongs to the tapping user (or to the agent `agent_id`); None when nothing changed.

    On PostgreSQL this is one statement (atomic without a transaction); elsewhere the
    same writes run one after another and need the caller's transaction.
    """
    now = utcnow()
    by_agent, owner = owner_params(telegram_user_id, agent_id)
    params = _cas_params(piece_id, version, owner, change, now)
    extra = tuple(sorted(change.values))
    if not _is_postgresql(conn):
        assert isinstance(conn, AsyncConnection), "SQLite runs through SQLAlchemy"
        return await _transition_in_steps(conn, params, extra, change, now, by_agent)
    log = change.log
    stmt = _transition_statement(
        change.approve,
        change.from_statuses,
        extra,
        None if log is None else (log.action_type, log.action_by_status),
        change.posts,
        by_agent,
    )
    if log is not None:
        params.update(log_id=uuid.uuid4(), log_feedback=log.feedback, log_from=log.from_status)
    if change.posts == "schedule":
        params["s_ids"] = [uuid.uuid4() for _ in change.schedule]
        params["s_accounts"] = [account for account, _ in change.schedule]
        params["s_times"] = [at for _, at in change.schedule]
    elif change.posts == "move":
        params["p_at"] = change.move_to
    rows = await fetch_all(conn, stmt, params)
    if not rows:
        return None
    row = rows[0]
    posts = int(row[6]) if change.posts is not None else 0
    return Transitioned(row[0], row[1], row[2], str(row[3]), int(row[4]), str(row[5]), posts)


_INSERT_LOG = insert(_logs)
_INSERT_SCHEDULE = insert(_schedule)


async def _transition_in_steps(
    conn: AsyncConnection,
    params: dict[str, Any],
    extra: tuple[str, ...],
    change: Change,
    now: datetime,
    by_agent: bool = False,
) -> Transitioned | None:
    """SQLite: the same writes as `_transition_statement`, one statement at a time."""
    cas = _cas_statement(
        change.approve,
        change.from_statuses,
        extra,
        _social_only(change.posts),
        change.posts == "cancel",
        by_agent,
    )
    row = (await conn.execute(cas, params)).first()
    if row is None:
        return None
    moved = Transitioned(row[0], row[1], row[2], str(row[3]), int(row[4]), str(row[5]))
    if change.log is not None:
        await conn.execute(
            _INSERT_LOG,
            {
                "id": uuid.uuid4(),
                "content_piece_id": moved.piece_id,
                "agent_id": moved.agent_id,
                "action_type": change.log.action_for(moved.status),
                "timestamp": now,
                "feedback": change.log.feedback,
                "from_status": change.log.from_status,
                "to_status": moved.status,
                "version": moved.version,
            },
        )
    posts = 0
    if change.posts == "schedule" and moved.status == _APPROVED:
        # No is_active re-check here (it would cost a statement): the slots were read from
        # active accounts a moment ago, and the publisher skips an account gone inactive.
        await insert_schedule_rows(conn, moved.piece_id, change.schedule)
        posts = len(change.schedule)
    elif change.posts in ("cancel", "move"):
        values: dict[str, Any] = {"updated_at": now}
        if change.posts == "cancel":
            values["status"] = ScheduleStatus.CANCELLED.value
        else:
            values["scheduled_at"] = change.move_to
        result = await conn.execute(
            update(_schedule)
            .where(_schedule.c.content_piece_id == moved.piece_id, _schedule.c.status == _PENDING)
            .values(values)
        )
        posts = int(result.rowcount)
    return Transitioned(
        moved.piece_id,
        moved.agent_id,
        moved.listing_id,
        moved.status,
        moved.version,
        moved.content_type,
        posts,
    )


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
