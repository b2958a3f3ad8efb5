"""A post's outcome, recorded: success, retry later, final failure, and the agent told.

Each outcome moves the schedule row, then the piece through the status machine, and
writes the agent's notification in the same transaction; `settle_piece` tells the agent
where a piece is live once none of its posts is waiting.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import account_connections, publish_claims, publish_outcomes, transitions
from db.repositories.transitions import Request
from db.status import NotificationType, ScheduleStatus
from services import metrics
from services import status_machine as machine
from services.context import Database
from services.notifying.notification_rows import notify
from services.publishing.graph_errors import PublishError, service_name
from services.publishing.post_text import as_platform
from services.publishing.results import PublishResult
from services.publishing.retry_policy import MAX_ATTEMPTS, retry_delay
from services.publishing.round_stats import PublishRound
from services.publishing.write_turns import writing

log = logging.getLogger(__name__)

OUTCOME_UNKNOWN = "Outcome unknown — please check your page; it was not posted again automatically."
UNEXPECTED = (
    "Publishing stopped on an unexpected error, so the post may or may not be on your page; "
    "please check your page before tapping Retry."
)
TIMED_OUT = (
    "The platform did not finish in time, so the post may or may not be on your page; "
    "please check your page before tapping Retry."
)


NOT_SENT_RETRIED = "The publisher stopped before this post went out; it was queued again."


async def publish_failed(
    database: Database,
    post: publish_claims.ClaimedPost,
    exc: PublishError,
    now: datetime,
    stats: PublishRound,
) -> None:
    log.info(
        "post failed",
        extra={
            "schedule_id": str(post.schedule_id),
            "kind": exc.kind,
            "code": exc.code,
            "subcode": exc.subcode,
            "attempt": post.attempts,
        },
    )
    if exc.retryable and post.attempts < MAX_ATTEMPTS:
        await requeue(database, post, exc, now, stats)
    else:
        await fail(database, post, exc.user_message, now, stats, deactivate=exc.deactivates_account)


async def record_success(
    database: Database,
    post: publish_claims.ClaimedPost,
    result: PublishResult,
    now: datetime,
    stats: PublishRound,
) -> None:
    async with writing(database) as session:
        finished, piece = await _change_post(
            session,
            post.piece_id,
            lambda: publish_outcomes.record_success(
                session,
                post.schedule_id,
                piece_id=post.piece_id,
                platform_post_id=result.platform_post_id,
                permalink=result.permalink,
                now=now,
            ),
        )
        if finished is not None and piece is not None and finished.others_waiting == 0:
            await settle_piece(session, post.piece_id, now, piece=piece)
    if finished is None:
        log.warning(
            "post published but no longer sent", extra={"schedule_id": str(post.schedule_id)}
        )
    stats.succeeded += 1
    metrics.record_post(post.platform, "success")


async def requeue(
    database: Database,
    post: publish_claims.ClaimedPost,
    exc: PublishError,
    now: datetime,
    stats: PublishRound,
) -> None:
    at = now + retry_delay(post.attempts, exc.retry_after_s)
    async with writing(database) as session:
        await publish_outcomes.requeue(
            session, post.schedule_id, at=at, error_message=exc.user_message, now=now
        )
    stats.retried += 1
    metrics.record_post(post.platform, "retried")


async def _change_post(
    session: AsyncSession,
    piece_id: uuid.UUID,
    change: Callable[[], Awaitable[publish_outcomes.Finished | None]],
) -> tuple[publish_outcomes.Finished | None, publish_outcomes.PieceForOutcome | None]:
    """Lock the piece and give one of its posts its outcome, in the order each database needs.

    PostgreSQL: the piece lock first, so that posts of one piece finish one after the other
    and the count of posts still waiting is exact. SQLite: the write first (it takes the
    database's write lock; a read first could fail to upgrade), then the piece.
    """
    if session.get_bind().dialect.name == "postgresql":
        piece = await publish_outcomes.lock_piece(session, piece_id)
        return await change(), piece
    finished = await change()
    return finished, (await publish_outcomes.lock_piece(session, piece_id) if finished else None)


async def fail(
    database: Database,
    post: publish_claims.ClaimedPost,
    reason: str,
    now: datetime,
    stats: PublishRound,
    *,
    deactivate: bool = False,
) -> None:
    deactivated = False
    if deactivate:
        # Its own transaction: it locks the account, which /accounts may hold while it
        # waits for a piece this failure would lock.
        async with writing(database) as session:
            deactivated = await account_connections.deactivate_account(
                session, post.account_pk, reason=reason, now=now
            )
    async with writing(database) as session:
        await record_final_failure(
            session,
            schedule_id=post.schedule_id,
            piece_id=post.piece_id,
            platform=post.platform,
            account_name=post.account_name,
            reason=reason,
            now=now,
            account_paused=deactivated,
        )
    stats.failed += 1
    stats.deactivated += int(deactivated)
    metrics.record_post(post.platform, "failed")


async def record_final_failure(
    session: AsyncSession,
    *,
    schedule_id: uuid.UUID,
    piece_id: uuid.UUID,
    platform: str,
    account_name: str,
    reason: str,
    now: datetime,
    what: str | None = None,
    account_paused: bool = False,
) -> bool:
    """Mark a `sent` post failed: the piece `posting_failed`, the agent told why.

    `what` replaces "was not published on <platform>" in the notification;
    `account_paused` adds that the account waits to be reconnected. Returns False when
    the post was not `sent` any more (nothing changed).
    """
    finished, piece = await _change_post(
        session,
        piece_id,
        lambda: publish_outcomes.record_failure(
            session, schedule_id, piece_id=piece_id, error_message=reason, now=now
        ),
    )
    if finished is None:
        return False
    if piece is None:
        return True
    await transitions.apply_in(session, machine.PUBLISH_FAILED, Request(piece_id, now=now))
    svc = service_name(as_platform(platform))
    what = what or f"was not published on {svc}"
    message = f"Your post about {piece.listing_address} {what} ({account_name}). {reason}"
    if account_paused:
        message += " The account stays paused until you reconnect it; then tap Retry."
    await notify(session, piece.agent, NotificationType.POST_FAILED, message, piece_id)
    if finished.others_waiting == 0:
        await settle_piece(session, piece_id, now, piece=piece)
    return True


async def settle_piece(
    session: AsyncSession,
    piece_id: uuid.UUID,
    now: datetime,
    *,
    piece: publish_outcomes.PieceForOutcome | None = None,
) -> None:
    """When none of the piece's posts is waiting any more, tell the agent where it is live."""
    piece = piece or await publish_outcomes.lock_piece(session, piece_id)
    if piece is None:
        return
    outcomes = await publish_outcomes.piece_outcomes(session, piece_id)
    waiting = {ScheduleStatus.PENDING.value, ScheduleStatus.SENT.value}
    if any(o.status in waiting for o in outcomes):
        return
    live: dict[uuid.UUID, publish_outcomes.PostOutcome] = {}
    failed: set[uuid.UUID] = set()
    for o in outcomes:
        if o.status == ScheduleStatus.SUCCESS.value:
            live[o.account_pk] = o
        elif o.status == ScheduleStatus.FAILED.value:
            failed.add(o.account_pk)
    unresolved = failed - live.keys()
    if not live:
        if not outcomes:
            # Every post was cancelled (piece_outcomes leaves those out) by disconnecting
            # its account: the draft must not keep saying "scheduled". Retry re-posts once
            # the account is reconnected. An agent's own Cancel rejected it already.
            moved = await transitions.apply_in(
                session, machine.POSTS_CANCELLED, Request(piece_id, now=now)
            )
            if moved:
                await notify(
                    session,
                    piece.agent,
                    NotificationType.POST_FAILED,
                    f"Nothing was posted about {piece.listing_address}: its account was "
                    "disconnected first. Reconnect with /connect, then tap Retry.",
                    piece_id,
                )
        return
    if not unresolved:
        await transitions.apply_in(session, machine.PUBLISH_SUCCEEDED, Request(piece_id, now=now))
    places = "; ".join(
        f"{service_name(as_platform(o.platform))} ({o.account_name})"
        + (f": {o.permalink}" if o.permalink else "")
        for o in live.values()
    )
    message = f"Your post about {piece.listing_address} is live on {places}."
    if unresolved:
        message += " It could not be published everywhere; see the message about the failure."
    await notify(session, piece.agent, NotificationType.POST_SUCCESS, message, piece_id)


async def requeue_now(
    database: Database, post: publish_claims.ClaimedPost, now: datetime, stats: PublishRound
) -> None:
    """It never went out: publish it again at once (attempts permitting)."""
    if post.attempts >= MAX_ATTEMPTS:
        await fail(
            database,
            post,
            f"Publishing stopped {post.attempts} times before this post went out; tap Retry.",
            now,
            stats,
        )
        return
    async with writing(database) as session:
        await publish_outcomes.requeue(
            session, post.schedule_id, at=now, error_message=NOT_SENT_RETRIED, now=now
        )
    stats.reconciled_retried += 1
    metrics.record_post(post.platform, "retried")
