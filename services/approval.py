"""The approval state machine: every button an agent taps on a draft.

    pending_approval_agent
      ├─ Approve ─▶ approved_for_posting ─ publish ─▶ posted_successfully | posting_failed
      ├─ Approve (sign-off on) ─▶ pending_external_marketing_approval
      │                             └─ Marketing approved ─▶ approved_for_posting
      ├─ Revise + feedback ─▶ pending_ai_revision ─ new version ─▶ pending_approval_agent
      └─ Reject ─▶ rejected
    approved_for_posting ─ Cancel ─▶ rejected;   posting_failed ─ Retry ─▶ approved_for_posting

Each transition is one compare-and-set on (status, version, owner) plus its audit row,
all inside the caller's unit of work; nothing here talks to Telegram.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import approval as repo
from db.status import ApprovalAction, ContentStatus
from services.scheduling import next_free_slot

S = ContentStatus
ACTIONABLE: tuple[str, ...] = (S.PENDING_APPROVAL_AGENT.value,)
MAX_FEEDBACK_CHARS = 2000
# Approve logs "approved", or "sent_to_marketing" when the agent needs marketing sign-off.
_APPROVE_LOG = repo.LogEntry(
    ApprovalAction.APPROVED.value,
    S.PENDING_APPROVAL_AGENT.value,
    action_by_status=(
        (S.PENDING_EXTERNAL_MARKETING_APPROVAL.value, ApprovalAction.SENT_TO_MARKETING.value),
    ),
)

_STATUS_WORDS = {
    S.DRAFT: "still being written",
    S.PENDING_APPROVAL_AGENT: "waiting for your decision",
    S.PENDING_EXTERNAL_MARKETING_APPROVAL: "waiting for marketing sign-off",
    S.APPROVED_FOR_POSTING: "already approved",
    S.REJECTED: "already rejected",
    S.PENDING_AI_REVISION: "being rewritten from your feedback",
    S.POSTED_SUCCESSFULLY: "already posted",
    S.POSTING_FAILED: "a post that failed",
}


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


@dataclass(frozen=True)
class FeedbackAccepted:
    """Feedback recorded; the draft waits for the writer."""

    piece_id: uuid.UUID
    version: int


def describe_status(status: str) -> str:
    """A few words for a status, as an agent would say it."""
    try:
        return _STATUS_WORDS[S(status)]
    except ValueError:
        return status


async def _refusal(session: AsyncSession, piece_id: uuid.UUID, version: int, uid: int) -> TapResult:
    state = await repo.piece_state(session, piece_id)
    if state is None:
        return TapResult(False, "This draft no longer exists.", piece_id, stale=True)
    if state.owner_telegram_user_id != uid:
        return TapResult(False, "Only the agent this draft belongs to can act on it.", piece_id)
    if state.version != version:
        return TapResult(
            False,
            "A newer version of this draft replaced this one; use the latest message.",
            piece_id,
            status=state.status,
            version=state.version,
            stale=True,
        )
    return TapResult(
        False,
        f"Nothing changed: this draft is {describe_status(state.status)}.",
        piece_id,
        status=state.status,
        version=state.version,
        stale=True,
    )


async def _schedule(
    session: AsyncSession,
    moved: repo.Moved,
    now: datetime,
    default_timezone: str,
) -> TapResult:
    """Put an approved draft on each active account's next free slot; the tap's result."""
    ctx = moved.context
    assert ctx is not None, "the transition was asked for the schedule context"
    tz = ctx.timezone or default_timezone
    slots: list[tuple[uuid.UUID, datetime]] = []
    shown: list[ScheduledPost] = []
    for acc in ctx.accounts:
        at = next_free_slot(
            now, timezone=tz, posting_times=ctx.posting_times, occupied=acc.occupied
        )
        slots.append((acc.account_pk, at))
        shown.append(ScheduledPost(acc.platform, acc.display_name or acc.account_id, at))
    piece = moved.transitioned
    await repo.insert_schedule_rows(session, piece.piece_id, slots)
    return TapResult(
        True,
        _approved_answer(shown),
        piece.piece_id,
        status=piece.status,
        version=piece.version,
        scheduled=tuple(shown),
        timezone=tz,
    )


def _approved_answer(scheduled: Sequence[ScheduledPost]) -> str:
    if not scheduled:
        return "Approved. Connect Facebook or Instagram with /connect so it can be posted."
    return "Approved and scheduled."


async def approve(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int,
    default_timezone: str,
    now: datetime | None = None,
) -> TapResult:
    """Approve: to marketing sign-off when the agent needs it, else schedule it."""
    now = now or utcnow()
    moved = await repo.transition(
        session,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        from_statuses=ACTIONABLE,
        approve=True,
        values={"last_approved_at": now},
        log=_APPROVE_LOG,
        context_if=S.APPROVED_FOR_POSTING.value,
        now=now,
    )
    if moved is None:
        return await _refusal(session, piece_id, version, telegram_user_id)
    status, new_version = moved.transitioned.status, moved.transitioned.version
    if status == S.PENDING_EXTERNAL_MARKETING_APPROVAL:
        return TapResult(
            True, "Sent for marketing sign-off.", piece_id, status=status, version=new_version
        )
    return await _schedule(session, moved, now, default_timezone)


async def record_marketing_approval(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int,
    default_timezone: str,
    now: datetime | None = None,
) -> TapResult:
    """Marketing signed off: approve for posting and schedule it."""
    now = now or utcnow()
    moved = await repo.transition(
        session,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        from_statuses=(S.PENDING_EXTERNAL_MARKETING_APPROVAL.value,),
        to_status=S.APPROVED_FOR_POSTING.value,
        values={"last_approved_at": now},
        log=repo.LogEntry(
            ApprovalAction.RECORDED_MARKETING_APPROVAL.value,
            S.PENDING_EXTERNAL_MARKETING_APPROVAL.value,
        ),
        context_if=S.APPROVED_FOR_POSTING.value,
        now=now,
    )
    if moved is None:
        return await _refusal(session, piece_id, version, telegram_user_id)
    return await _schedule(session, moved, now, default_timezone)


async def reject(
    session: AsyncSession, *, piece_id: uuid.UUID, version: int, telegram_user_id: int
) -> TapResult:
    """Reject a draft waiting for the agent or for marketing."""
    from_statuses = (S.PENDING_APPROVAL_AGENT.value, S.PENDING_EXTERNAL_MARKETING_APPROVAL.value)
    moved = await repo.transition(
        session,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        from_statuses=from_statuses,
        to_status=S.REJECTED.value,
        log=repo.LogEntry(ApprovalAction.REJECTED.value, None),
    )
    if moved is None:
        return await _refusal(session, piece_id, version, telegram_user_id)
    status = moved.transitioned.status
    return TapResult(True, "Rejected. It will not be posted.", piece_id, status, version)


async def start_revision(
    session: AsyncSession, *, piece_id: uuid.UUID, version: int, telegram_user_id: int
) -> TapResult:
    """Revise tapped: the agent's next text message will be the feedback."""
    stored = await repo.await_feedback(
        session,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        actionable=ACTIONABLE,
    )
    if not stored:
        return await _refusal(session, piece_id, version, telegram_user_id)
    return TapResult(
        True, "Tell me what to change.", piece_id, S.PENDING_APPROVAL_AGENT.value, version
    )


async def submit_feedback(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    text: str,
    piece_id: uuid.UUID | None = None,
    version: int | None = None,
) -> FeedbackAccepted | None:
    """Record feedback and queue the draft for rewriting.

    Without `piece_id`, the draft is the one the agent last tapped Revise on. With it
    (the agent replied to a draft message), that draft at `version`. None when there
    is no draft to apply it to.
    """
    feedback = text.strip()[:MAX_FEEDBACK_CHARS]
    if not feedback:
        return None
    if piece_id is None:
        pending = await repo.pop_pending_feedback(session, telegram_user_id)
        if pending is None:
            return None
        piece_id, version, _agent_id = pending
    if version is None:
        return None
    moved = await repo.transition(
        session,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        from_statuses=ACTIONABLE,
        to_status=S.PENDING_AI_REVISION.value,
        values={"feedback": feedback},
        log=repo.LogEntry(
            ApprovalAction.REQUESTED_REVISIONS.value,
            S.PENDING_APPROVAL_AGENT.value,
            feedback=feedback,
        ),
    )
    if moved is None:
        return None
    return FeedbackAccepted(piece_id=piece_id, version=version)


async def post_now(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int,
    now: datetime | None = None,
) -> TapResult:
    """Bring an approved post's pending rows forward to now."""
    now = now or utcnow()
    still = await repo.compare_and_set_status(
        session,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        from_statuses=(S.APPROVED_FOR_POSTING.value,),
        to_status=S.APPROVED_FOR_POSTING.value,
    )
    if still is None:
        return await _refusal(session, piece_id, version, telegram_user_id)
    moved = await repo.move_pending_rows_to(session, piece_id, now)
    if not moved:
        return TapResult(
            False, "There is nothing waiting to be posted.", piece_id, still.status, version
        )
    return TapResult(True, "Posting now.", piece_id, still.status, version)


async def cancel(
    session: AsyncSession, *, piece_id: uuid.UUID, version: int, telegram_user_id: int
) -> TapResult:
    """Cancel an approved post before it goes out (logged as a rejection)."""
    moved = await repo.transition(
        session,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        from_statuses=(S.APPROVED_FOR_POSTING.value,),
        to_status=S.REJECTED.value,
        log=repo.LogEntry(
            ApprovalAction.REJECTED.value,
            S.APPROVED_FOR_POSTING.value,
            feedback="Cancelled by the agent before it was posted.",
        ),
    )
    if moved is None:
        return await _refusal(session, piece_id, version, telegram_user_id)
    await repo.cancel_pending_rows(session, piece_id)
    status = moved.transitioned.status
    return TapResult(True, "Cancelled. Nothing will be posted.", piece_id, status, version)


async def retry(
    session: AsyncSession,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int,
    default_timezone: str,
    now: datetime | None = None,
) -> TapResult:
    """After a failed post: approve again and post as soon as possible."""
    now = now or utcnow()
    moved = await repo.transition(
        session,
        piece_id=piece_id,
        version=version,
        telegram_user_id=telegram_user_id,
        from_statuses=(S.POSTING_FAILED.value,),
        to_status=S.APPROVED_FOR_POSTING.value,
        values={"last_approved_at": now},
        log=repo.LogEntry(
            ApprovalAction.APPROVED.value,
            S.POSTING_FAILED.value,
            feedback="Retry after a failed post.",
        ),
        context_if=S.APPROVED_FOR_POSTING.value,
        now=now,
    )
    if moved is None:
        return await _refusal(session, piece_id, version, telegram_user_id)
    ctx = moved.context
    assert ctx is not None, "the transition was asked for the schedule context"
    # Only the accounts that failed: a post that already went out must not repeat.
    failed = set(await repo.failed_account_ids(session, piece_id))
    targets = [acc for acc in ctx.accounts if acc.account_pk in failed]
    await repo.insert_schedule_rows(session, piece_id, [(a.account_pk, now) for a in targets])
    shown = tuple(ScheduledPost(a.platform, a.display_name or a.account_id, now) for a in targets)
    return TapResult(
        True,
        "Trying again now." if shown else _approved_answer(shown),
        piece_id,
        moved.transitioned.status,
        version,
        scheduled=shown,
        timezone=ctx.timezone or default_timezone,
    )
