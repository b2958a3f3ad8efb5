"""Every button an agent taps on a draft: which transition it is, and what to answer.

The transitions themselves (from, to, guards, audit action, posts) are declared in
`services.status_machine`; here a tap picks one (Approve goes to marketing sign-off when
the agent's setting asks for it), reads what it needs first (the agent's free posting
slots and that setting), and has it executed as one compare-and-set on (status, version,
owner) that writes its audit row and its posts with it: one statement on PostgreSQL, so
the bot runs taps on a connection without a transaction (`Database.tap()`). An approval's
write also checks that no other approval of the agent planned slots since its read, and
reads again if one did. Nothing here talks to Telegram.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from db.base import utcnow
from db.driver import Executor
from db.repositories import approval as repo
from db.repositories import transitions
from db.repositories.transitions import Request, Transition
from db.status import ContentStatus, ContentType, ScheduleStatus
from services import status_machine as machine
from services.errors import ACCOUNT_DEACTIVATED
from services.scheduling import ScheduleFull, next_free_slot
from services.status_display import describe_status

S = ContentStatus
ACTIONABLE: tuple[str, ...] = (S.PENDING_APPROVAL_AGENT.value,)
MAX_FEEDBACK_CHARS = 2000
# Approvals by one agent take turns in this process, so taps delivered together (a phone
# back online) do not read the same free slots and redo the work. Across processes (webhook
# mode behind a proxy, the dashboard) the write's Guard.SLOTS_AS_READ keeps two approvals
# from taking one slot: the one that loses reads again, at most this many times in all.
_PLAN_ATTEMPTS = 5
_agent_turns: weakref.WeakValueDictionary[int | uuid.UUID, asyncio.Lock] = (
    weakref.WeakValueDictionary()
)
NEVER_POSTED = "Flyer text is never posted to your pages; tap Dismiss when you are done with it."
IN_FLIGHT = (
    "One post of this draft is being published right now, so it cannot be cancelled; "
    "I will tell you how it went."
)
_BUSY = "Many approvals arrived at once; tap Approve again in a moment."
_SCHEDULE_FULL = (
    "Every posting slot of the next year is taken on one of your accounts. "
    "Add posting times in /settings or cancel some posts, then tap Approve again."
)


@dataclass(frozen=True)
class ScheduledPost:
    """One account a post will go to, and when (UTC)."""

    platform: str
    account_name: str
    at: datetime


@dataclass(frozen=True)
class TapResult:
    """What a tap did, for the handler to answer and redraw the message."""

    ok: bool
    answer: str
    piece_id: uuid.UUID
    status: str | None = None
    version: int | None = None
    scheduled: tuple[ScheduledPost, ...] = field(default_factory=tuple)
    timezone: str | None = None
    # True when the message's buttons are out of date and should be replaced.
    stale: bool = False
    # Which buttons the draft gets: a flyer never has any that lead to posting.
    content_type: str = ContentType.SOCIAL_MEDIA_POST.value


@dataclass(frozen=True)
class FeedbackAccepted:
    """Feedback recorded; the draft waits for the writer."""

    piece_id: uuid.UUID
    version: int


@dataclass(frozen=True)
class _Actor:
    """Who acts on a draft: the agent linked to a Telegram user (a tap), or an agent by id
    (the dashboard, which chose the agent beforehand). Exactly one is set."""

    telegram_user_id: int | None
    agent_id: uuid.UUID | None

    def owns(self, state: repo.PieceState) -> bool:
        if self.agent_id is not None:
            return state.owner_agent_id == self.agent_id
        return state.owner_telegram_user_id == self.telegram_user_id

    @property
    def key(self) -> int | uuid.UUID:
        """What one agent's approvals take turns on (taps and dashboard clicks of one agent
        at the same instant may still plan the same slot: the two keys differ)."""
        return self.agent_id if self.agent_id is not None else int(self.telegram_user_id or 0)


async def _refusal(
    conn: Executor, piece_id: uuid.UUID, version: int, who: _Actor, *, posting: bool = False
) -> TapResult:
    """Why a tap changed nothing; `posting`: the tap would have scheduled or sped up posts."""
    state = await repo.piece_state(conn, piece_id)
    return _refusal_from(state, piece_id, version, who, posting=posting)


def _refusal_from(
    state: repo.PieceState | None,
    piece_id: uuid.UUID,
    version: int,
    who: _Actor,
    *,
    posting: bool = False,
) -> TapResult:
    if state is None:
        return TapResult(False, "This draft no longer exists.", piece_id, stale=True)
    if not who.owns(state):
        return TapResult(False, "Only the agent this draft belongs to can act on it.", piece_id)
    if not state.owner_active:
        return TapResult(False, ACCOUNT_DEACTIVATED, piece_id)
    if state.version != version:
        answer = "A newer version of this draft replaced this one; use the latest message."
        version = state.version
    elif posting and state.content_type != ContentType.SOCIAL_MEDIA_POST:
        answer = NEVER_POSTED
    else:
        answer = f"Nothing changed: this draft is {describe_status(state.status)}."
    return TapResult(
        False,
        answer,
        piece_id,
        status=state.status,
        version=version,
        stale=True,
        content_type=state.content_type,
    )


async def _move(
    conn: Executor,
    piece_id: uuid.UUID,
    version: int,
    who: _Actor,
    t: Transition,
    **more: Any,
) -> transitions.Transitioned | None:
    """The tap's one write: the declared transition `t` (db.repositories.transitions)."""
    req = Request(
        piece_id=piece_id,
        version=version,
        telegram_user_id=who.telegram_user_id,
        agent_id=who.agent_id,
        **more,
    )
    return await transitions.apply(conn, t, req)


def _agent_turn(key: int | uuid.UUID) -> asyncio.Lock:
    # Kept while a tap holds or awaits it; dropped with the last reference.
    lock = _agent_turns.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _agent_turns[key] = lock
    return lock


@dataclass(frozen=True)
class _Plan:
    """Where an approved draft will go: rows to write and what to show the agent."""

    rows: tuple[tuple[uuid.UUID, datetime], ...]
    shown: tuple[ScheduledPost, ...]
    timezone: str


def _plan_slots(ctx: repo.ScheduleContext, now: datetime, default_timezone: str) -> _Plan:
    """Each active account's next free slot."""
    tz = ctx.timezone or default_timezone
    rows: list[tuple[uuid.UUID, datetime]] = []
    shown: list[ScheduledPost] = []
    for acc in ctx.accounts:
        at = next_free_slot(
            now, timezone=tz, posting_times=ctx.posting_times, occupied=acc.occupied
        )
        rows.append((acc.account_pk, at))
        shown.append(ScheduledPost(acc.platform, acc.display_name or acc.account_id, at))
    return _Plan(tuple(rows), tuple(shown), tz)


async def _approve_and_schedule(
    conn: Executor,
    *,
    piece_id: uuid.UUID,
    version: int,
    who: _Actor,
    default_timezone: str,
    now: datetime,
    marketing: bool = False,
) -> TapResult:
    """Read the agent's free slots, then one write: status, audit row and posts.

    `marketing`: the tap records marketing's sign-off; otherwise it is the agent's
    Approve, which goes to sign-off first when the agent's setting (read here) asks for
    it. When the write finds that another approval planned slots since the read (another
    process; in this one the agent's approvals take turns), it reads again.
    """
    for _ in range(_PLAN_ATTEMPTS):
        async with _agent_turn(who.key):
            ctx = await repo.schedule_context(
                conn, who.telegram_user_id, now, piece_id, who.agent_id
            )
            if ctx is None or not _postable(ctx):
                return await _refusal(conn, piece_id, version, who, posting=True)
            try:
                plan = _plan_slots(ctx, now, default_timezone)
            except ScheduleFull:
                return TapResult(False, _SCHEDULE_FULL, piece_id)
            if marketing:
                t = machine.MARKETING_APPROVE
            else:
                t = machine.approve_transition(ctx.requires_marketing_approval)
            moved = await _move(
                conn,
                piece_id,
                version,
                who,
                t,
                values={"last_approved_at": now},
                schedule=plan.rows if t.posts is not None else (),
                slot_plan_version=ctx.slot_plan_version,
            )
        if moved is not None:
            return _approved(moved, plan, piece_id, version)
        state = await repo.piece_state(conn, piece_id)
        if not _still_waiting(state, t, version, who):
            return _refusal_from(state, piece_id, version, who, posting=True)
        # The draft waits at this version as before: what changed since the read is the
        # agent's slots (another approval) or sign-off setting. Read again.
    return TapResult(False, _BUSY, piece_id)


def _still_waiting(state: repo.PieceState | None, t: Transition, version: int, who: _Actor) -> bool:
    """Whether the draft is as the tap saw it: waiting for this approval, at this version."""
    return (
        state is not None
        and who.owns(state)
        and state.owner_active
        and state.version == version
        and state.status in t.from_statuses
    )


def _approved(
    moved: transitions.Transitioned, plan: _Plan, piece_id: uuid.UUID, version: int
) -> TapResult:
    if moved.status == S.PENDING_EXTERNAL_MARKETING_APPROVAL:
        return TapResult(
            True, "Sent for marketing sign-off.", piece_id, status=moved.status, version=version
        )
    return TapResult(
        True,
        _approved_answer(plan.shown),
        piece_id,
        status=moved.status,
        version=moved.version,
        scheduled=plan.shown,
        timezone=plan.timezone,
    )


def _postable(ctx: repo.ScheduleContext) -> bool:
    """Whether the tapped draft may ever be posted: a social post, never flyer text.

    A draft that does not exist passes here; the write then finds nothing and says so.
    """
    kind = ctx.piece_content_type
    return kind is None or kind == ContentType.SOCIAL_MEDIA_POST


def _approved_answer(scheduled: Sequence[ScheduledPost]) -> str:
    if not scheduled:
        return "Approved. Connect Facebook or Instagram with /connect so it can be posted."
    return "Approved and scheduled."


async def approve(
    conn: Executor,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int | None = None,
    agent_id: uuid.UUID | None = None,
    default_timezone: str,
    now: datetime | None = None,
) -> TapResult:
    """Approve: to marketing sign-off when the agent needs it, else schedule it.

    Who acts is the agent linked to `telegram_user_id` (a tap) or the agent `agent_id`
    (the dashboard): exactly one is given, here and in every transition below.
    """
    return await _approve_and_schedule(
        conn,
        piece_id=piece_id,
        version=version,
        who=_Actor(telegram_user_id, agent_id),
        default_timezone=default_timezone,
        now=now or utcnow(),
    )


async def record_marketing_approval(
    conn: Executor,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int | None = None,
    agent_id: uuid.UUID | None = None,
    default_timezone: str,
    now: datetime | None = None,
) -> TapResult:
    """Marketing signed off: approve for posting and schedule it."""
    return await _approve_and_schedule(
        conn,
        piece_id=piece_id,
        version=version,
        who=_Actor(telegram_user_id, agent_id),
        default_timezone=default_timezone,
        now=now or utcnow(),
        marketing=True,
    )


async def reject(
    conn: Executor,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int | None = None,
    agent_id: uuid.UUID | None = None,
) -> TapResult:
    """Reject a draft waiting for the agent or for marketing."""
    who = _Actor(telegram_user_id, agent_id)
    moved = await _move(conn, piece_id, version, who, machine.REJECT)
    if moved is None:
        return await _refusal(conn, piece_id, version, who)
    if moved.content_type != ContentType.SOCIAL_MEDIA_POST:
        return TapResult(
            True, "Dismissed.", piece_id, moved.status, version, content_type=moved.content_type
        )
    return TapResult(True, "Rejected. It will not be posted.", piece_id, moved.status, version)


async def start_revision(
    conn: Executor, *, piece_id: uuid.UUID, version: int, telegram_user_id: int
) -> TapResult:
    """Revise tapped: the agent's next text message will be the feedback."""
    stored = await repo.await_feedback(
        conn,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        actionable=ACTIONABLE,
    )
    if not stored:
        return await _refusal(conn, piece_id, version, _Actor(telegram_user_id, None))
    return TapResult(
        True, "Tell me what to change.", piece_id, S.PENDING_APPROVAL_AGENT.value, version
    )


async def submit_feedback(
    conn: Executor,
    *,
    telegram_user_id: int,
    text: str,
    piece_id: uuid.UUID | None = None,
    version: int | None = None,
) -> FeedbackAccepted | None:
    """Record feedback and queue the draft for rewriting.

    Without `piece_id`, the draft is the one the agent last tapped Revise on. With it
    (the agent replied to a draft message), that draft at `version`. None when there
    is no draft to apply it to. Two writes: give it a connection in a transaction.
    """
    # PostgreSQL text cannot hold U+0000 (the insert would fail); a cut leaves no trailing space.
    feedback = text.replace("\x00", "").strip()[:MAX_FEEDBACK_CHARS].rstrip()
    if not feedback:
        return None
    if piece_id is None:
        pending = await repo.pop_pending_feedback(conn, telegram_user_id)
        if pending is None:
            return None
        piece_id, version, _agent_id = pending
    if version is None:
        return None
    moved = await _move(
        conn,
        piece_id,
        version,
        _Actor(telegram_user_id, None),
        machine.REQUEST_REVISION,
        values={"feedback": feedback},
        feedback=feedback,
    )
    if moved is None:
        return None
    return FeedbackAccepted(piece_id=piece_id, version=version)


async def post_now(
    conn: Executor,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int | None = None,
    agent_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> TapResult:
    """Bring an approved post's pending rows forward to now."""
    who = _Actor(telegram_user_id, agent_id)
    approved = S.APPROVED_FOR_POSTING.value
    moved = await _move(conn, piece_id, version, who, machine.POST_NOW, move_to=now or utcnow())
    if moved is None:
        return await _refusal(conn, piece_id, version, who, posting=True)
    if not moved.posts:
        nothing = "There is nothing waiting to be posted."
        return TapResult(False, nothing, piece_id, approved, version)
    return TapResult(True, "Posting now.", piece_id, approved, version)


async def cancel(
    conn: Executor,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int | None = None,
    agent_id: uuid.UUID | None = None,
) -> TapResult:
    """Cancel an approved post before it goes out (logged as a rejection)."""
    who = _Actor(telegram_user_id, agent_id)
    moved = await _move(conn, piece_id, version, who, machine.CANCEL)
    if moved is None:
        refused = await _refusal(conn, piece_id, version, who)
        # Still approved at this version: what stopped the cancel is a post going out.
        still_approved = refused.status == S.APPROVED_FOR_POSTING and refused.version == version
        if still_approved and (await repo.post_counts(conn, piece_id)).get(ScheduleStatus.SENT):
            return TapResult(False, IN_FLIGHT, piece_id, refused.status, version)
        return refused
    answer = "Cancelled. Nothing will be posted."
    if (await repo.post_counts(conn, piece_id)).get(ScheduleStatus.SUCCESS, 0):
        answer = "Cancelled. Nothing more will be posted; what is already live stays up."
    return TapResult(True, answer, piece_id, moved.status, version)


async def retry(
    conn: Executor,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int | None = None,
    agent_id: uuid.UUID | None = None,
    default_timezone: str,
    now: datetime | None = None,
) -> TapResult:
    """After a failed post: approve again and post as soon as possible."""
    now = now or utcnow()
    who = _Actor(telegram_user_id, agent_id)
    ctx = await repo.schedule_context(conn, who.telegram_user_id, now, piece_id, who.agent_id)
    if ctx is None or not _postable(ctx):
        return await _refusal(conn, piece_id, version, who, posting=True)
    # Only the accounts that failed: a post that already went out must not repeat.
    failed = set(await repo.failed_account_ids(conn, piece_id))
    targets = [acc for acc in ctx.accounts if acc.account_pk in failed]
    moved = await _move(
        conn,
        piece_id,
        version,
        who,
        machine.RETRY,
        values={"last_approved_at": now},
        schedule=tuple((acc.account_pk, now) for acc in targets),
    )
    if moved is None:
        return await _refusal(conn, piece_id, version, who, posting=True)
    shown = tuple(ScheduledPost(a.platform, a.display_name or a.account_id, now) for a in targets)
    return TapResult(
        True,
        "Trying again now." if shown else _approved_answer(shown),
        piece_id,
        moved.status,
        version,
        scheduled=shown,
        timezone=ctx.timezone or default_timezone,
    )
