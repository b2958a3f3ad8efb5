"""The publish job: claim due posts, publish each at most once, record it, tell the agent.

    pending ─ claim (committed) ─▶ sent ─ platform call ─▶ success
                                     ├──────────────────▶ failed  (permanent, or attempts spent)
                                     └──────────────────▶ pending (retryable: later, with back-off)
    sent, no outcome after a crash ─ recovery ─▶ failed ("outcome unknown"), never re-posted

Rows of one account are published one after the other; different accounts run side by
side up to `concurrency`. No database transaction is open during a platform call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import app_state
from db.repositories import publishing as repo
from db.status import ContentStatus, NotificationType, ScheduleStatus
from services.context import Database
from services.crypto import DecryptionError
from services.notifications import notify
from services.publishing import GraphClient, GraphPublisher, Platform, Publisher, PublishError
from services.publishing.errors import service_name

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)
# A hint from the Graph (e.g. a throttling window) is honoured up to this long.
RETRY_HINT_MAX = timedelta(hours=6)
# One post may take this long at most (Graph retries, Instagram processing); after it the
# outcome is unknown. STALE_AFTER must stay well above it: only then is a `sent` row that
# old certainly abandoned, by a crash or a lost database connection.
POST_TIMEOUT_S = 240.0
STALE_AFTER = timedelta(minutes=10)
DEFAULT_BATCH = 500
DEFAULT_CONCURRENCY = 32

OUTCOME_UNKNOWN = "Outcome unknown — please check your page; it was not posted again automatically."
UNEXPECTED = (
    "Publishing stopped on an unexpected error, so the post may or may not be on your page; "
    "please check your page before tapping Retry."
)
TIMED_OUT = (
    "The platform did not finish in time, so the post may or may not be on your page; "
    "please check your page before tapping Retry."
)

_POSTABLE_FROM = (ContentStatus.APPROVED_FOR_POSTING.value, ContentStatus.POSTING_FAILED.value)


@dataclass
class PublishRound:
    """What one round of the publish job did."""

    paused: bool = False
    claimed: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    deactivated: int = 0
    errors: int = 0
    elapsed_s: float = 0.0


@dataclass
class GraphResources:
    """One HTTP session, Graph client and publisher for the whole process."""

    session: aiohttp.ClientSession
    client: GraphClient
    publisher: GraphPublisher

    @classmethod
    def open(
        cls,
        base_url: str,
        *,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_base_s: float = 1.0,
        poll_interval_s: float = 1.0,
        poll_timeout_s: float = 60.0,
        check_quota: bool = True,
    ) -> GraphResources:
        """Create them (call from a running event loop); close with `aclose`."""
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        client = GraphClient(
            session,
            base_url,
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
        )
        publisher = GraphPublisher(
            client,
            session,
            check_quota=check_quota,
            poll_interval_s=poll_interval_s,
            poll_timeout_s=poll_timeout_s,
        )
        return cls(session, client, publisher)

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self.session.close()


def default_worker_id() -> str:
    """Who claims rows: host, process and a random suffix (shown in `claimed_by`)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def post_text(generated_text: Mapping[str, Any], platform: str) -> str:
    """The text to publish on `platform`: its own text, else headline, body and hashtags."""
    own = generated_text.get(f"{platform}_text")
    if isinstance(own, str) and own.strip():
        return own.strip()
    parts: list[str] = []
    for key in ("headline", "body", "description", "call_to_action"):
        value = generated_text.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(value.strip())
    tags = generated_text.get("hashtags")
    if isinstance(tags, list) and tags:
        parts.append(" ".join(str(t) for t in tags))
    return "\n\n".join(parts)


def retry_delay(attempts: int, hint_s: float | None = None) -> timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4, 8… minutes (≤ 1 h), or the Graph's hint."""
    exponential_s = min(
        RETRY_BASE.total_seconds() * 2.0 ** max(0, attempts - 1), RETRY_MAX.total_seconds()
    )
    if hint_s:
        return timedelta(seconds=min(max(exponential_s, hint_s), RETRY_HINT_MAX.total_seconds()))
    return timedelta(seconds=exponential_s)


async def is_paused(database: Database) -> bool:
    """Whether an admin paused publishing (/pause)."""
    async with database.unit_of_work() as session:
        return await _paused(session)


async def _paused(session: AsyncSession) -> bool:
    return bool(await app_state.get_value(session, app_state.PUBLISHING_PAUSED, False))


class _PausedMeanwhile(Exception):
    """Publishing was paused between the round's start and this claim."""


async def publish_due(
    database: Database,
    publisher: Publisher,
    *,
    now: datetime | None = None,
    batch: int = DEFAULT_BATCH,
    concurrency: int = DEFAULT_CONCURRENCY,
    worker_id: str | None = None,
    post_timeout_s: float = POST_TIMEOUT_S,
) -> PublishRound:
    """Publish up to `batch` due posts, `concurrency` at a time, one at a time per account.

    `now` fixes the clock (tests); by default each step reads the current time. Does
    nothing while publishing is paused; a pause during the round stops further claims.
    """
    started = time.monotonic()
    stats = PublishRound()
    if await is_paused(database):
        stats.paused = True
        return stats
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    worker = worker_id or default_worker_id()
    async with database.unit_of_work() as session:
        accounts = await repo.due_accounts(session, now=clock(), limit=max(1, batch))
    budget = max(0, batch)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def drain(account_pk: uuid.UUID) -> None:
        nonlocal budget
        while budget > 0 and not stats.paused:
            async with gate:
                if budget <= 0 or stats.paused:
                    return
                budget -= 1
                post = await _claim_one(database, account_pk, clock(), worker, stats)
                if post is None:
                    budget += 1
                    return
                stats.claimed += 1
                await _publish_claimed(database, publisher, post, clock, stats, post_timeout_s)

    results = await asyncio.gather(*(drain(a) for a in accounts), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            stats.errors += 1
            log.error("publish worker failed", exc_info=result)
        elif isinstance(result, BaseException):
            raise result
    stats.elapsed_s = time.monotonic() - started
    return stats


async def _claim_one(
    database: Database,
    account_pk: uuid.UUID,
    now: datetime,
    worker: str,
    stats: PublishRound,
) -> repo.ClaimedPost | None:
    """Claim the account's next due post in its own committed transaction."""
    try:
        async with database.unit_of_work() as session:
            ids = await repo.claim(
                session, now=now, worker_id=worker, limit=1, account_pk=account_pk
            )
            if not ids:
                return None
            # Checked after the claim's write so a /pause committed meanwhile rolls it back.
            if await _paused(session):
                raise _PausedMeanwhile
            posts = await repo.load_claimed(session, ids)
    except _PausedMeanwhile:
        stats.paused = True
        return None
    return posts[0] if posts else None


async def _publish_claimed(
    database: Database,
    publisher: Publisher,
    post: repo.ClaimedPost,
    clock: Callable[[], datetime],
    stats: PublishRound,
    post_timeout_s: float,
) -> None:
    """Publish one claimed post outside any transaction and record the outcome."""
    platform = _platform(post.platform)
    svc = service_name(platform)
    if not post.account_active:
        reason = (post.deactivated_reason or "").strip().rstrip(".")
        why = f" ({reason})" if reason else ""
        await _fail(
            database,
            post,
            f"The {svc} account {post.account_name} is disconnected{why}; reconnect it with "
            "/connect, then tap Retry.",
            clock(),
            stats,
        )
        return
    try:
        token = database.cipher.decrypt(
            post.token_encrypted, what=f"the {svc} token of {post.account_name}"
        )
    except DecryptionError as exc:
        await _fail(database, post, str(exc), clock(), stats)
        return
    text = post_text(post.generated_text, platform)
    try:
        async with asyncio.timeout(post_timeout_s):
            result = await publisher.publish(
                platform, post.account_id, token, text, post.image_urls
            )
    except PublishError as exc:
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
            await _requeue(database, post, exc, clock(), stats)
        else:
            await _fail(
                database, post, exc.user_message, clock(), stats, deactivate=exc.deactivates_account
            )
        return
    except TimeoutError:
        log.warning("post timed out", extra={"schedule_id": str(post.schedule_id)})
        await _fail(database, post, TIMED_OUT, clock(), stats)
        return
    except Exception:
        log.exception("post raised unexpectedly", extra={"schedule_id": str(post.schedule_id)})
        await _fail(database, post, UNEXPECTED, clock(), stats)
        return
    now = clock()
    async with database.unit_of_work() as session:
        piece_id = await repo.record_success(
            session,
            post.schedule_id,
            platform_post_id=result.platform_post_id,
            permalink=result.permalink,
            now=now,
        )
        if piece_id is not None:
            await settle_piece(session, piece_id, now)
    if piece_id is None:
        log.warning(
            "post published but no longer sent", extra={"schedule_id": str(post.schedule_id)}
        )
    stats.succeeded += 1


async def _requeue(
    database: Database,
    post: repo.ClaimedPost,
    exc: PublishError,
    now: datetime,
    stats: PublishRound,
) -> None:
    at = now + retry_delay(post.attempts, exc.retry_after_s)
    async with database.unit_of_work() as session:
        await repo.requeue(
            session, post.schedule_id, at=at, error_message=exc.user_message, now=now
        )
    stats.retried += 1


async def _fail(
    database: Database,
    post: repo.ClaimedPost,
    reason: str,
    now: datetime,
    stats: PublishRound,
    *,
    deactivate: bool = False,
) -> None:
    async with database.unit_of_work() as session:
        deactivated = await record_final_failure(
            session,
            schedule_id=post.schedule_id,
            account_pk=post.account_pk,
            platform=post.platform,
            account_name=post.account_name,
            reason=reason,
            now=now,
            deactivate=deactivate,
        )
    stats.failed += 1
    stats.deactivated += int(bool(deactivated))


async def record_final_failure(
    session: AsyncSession,
    *,
    schedule_id: uuid.UUID,
    account_pk: uuid.UUID,
    platform: str,
    account_name: str,
    reason: str,
    now: datetime,
    deactivate: bool = False,
    what: str | None = None,
) -> bool | None:
    """Mark a `sent` post failed: the piece `posting_failed`, the agent told why.

    `what` replaces "was not published on <platform>" in the notification. With
    `deactivate`, the account is turned off until reconnected. Returns whether this call
    deactivated the account, or None when the post was not `sent` any more.
    """
    piece_id = await repo.record_failure(session, schedule_id, error_message=reason, now=now)
    if piece_id is None:
        return None
    deactivated = False
    if deactivate:
        deactivated = await repo.deactivate_account(session, account_pk, reason=reason, now=now)
    piece = await repo.lock_piece(session, piece_id)
    if piece is None:
        return deactivated
    await repo.set_piece_status(
        session,
        piece_id,
        to_status=ContentStatus.POSTING_FAILED.value,
        from_statuses=(ContentStatus.APPROVED_FOR_POSTING.value,),
        now=now,
    )
    svc = service_name(_platform(platform))
    what = what or f"was not published on {svc}"
    message = f"Your post about {piece.listing_address} {what} ({account_name}). {reason}"
    if deactivated:
        message += " The account stays paused until you reconnect it; then tap Retry."
    await notify(session, piece.agent, NotificationType.POST_FAILED, message, piece_id)
    await settle_piece(session, piece_id, now, piece=piece)
    return deactivated


async def settle_piece(
    session: AsyncSession,
    piece_id: uuid.UUID,
    now: datetime,
    *,
    piece: repo.PieceForOutcome | None = None,
) -> None:
    """When none of the piece's posts is waiting any more, tell the agent where it is live."""
    piece = piece or await repo.lock_piece(session, piece_id)
    if piece is None:
        return
    outcomes = await repo.piece_outcomes(session, piece_id)
    waiting = {ScheduleStatus.PENDING.value, ScheduleStatus.SENT.value}
    if any(o.status in waiting for o in outcomes):
        return
    live: dict[uuid.UUID, repo.PostOutcome] = {}
    failed: set[uuid.UUID] = set()
    for o in outcomes:
        if o.status == ScheduleStatus.SUCCESS.value:
            live[o.account_pk] = o
        elif o.status == ScheduleStatus.FAILED.value:
            failed.add(o.account_pk)
    unresolved = failed - live.keys()
    if not live:
        return
    if not unresolved:
        await repo.set_piece_status(
            session,
            piece_id,
            to_status=ContentStatus.POSTED_SUCCESSFULLY.value,
            from_statuses=_POSTABLE_FROM,
            now=now,
        )
    places = "; ".join(
        f"{service_name(_platform(o.platform))} ({o.account_name})"
        + (f": {o.permalink}" if o.permalink else "")
        for o in live.values()
    )
    message = f"Your post about {piece.listing_address} is live on {places}."
    if unresolved:
        message += " It could not be published everywhere; see the message about the failure."
    await notify(session, piece.agent, NotificationType.POST_SUCCESS, message, piece_id)


async def recover_stale(
    database: Database,
    *,
    now: datetime | None = None,
    older_than: timedelta = STALE_AFTER,
) -> int:
    """Posts left `sent` (a crash between claim and answer) become failed, never re-posted.

    Returns how many were marked failed.
    """
    now = now or utcnow()
    async with database.unit_of_work() as session:
        ids = await repo.stale_sent(session, claimed_before=now - older_than)
        posts = await repo.load_claimed(session, ids)
    count = 0
    for post in posts:
        svc = service_name(_platform(post.platform))
        async with database.unit_of_work() as session:
            done = await record_final_failure(
                session,
                schedule_id=post.schedule_id,
                account_pk=post.account_pk,
                platform=post.platform,
                account_name=post.account_name,
                reason=OUTCOME_UNKNOWN,
                now=now,
                what=f"may or may not have been published on {svc}",
            )
        if done is None:
            continue  # it got its outcome meanwhile
        count += 1
        log.warning(
            "post outcome unknown after a restart", extra={"schedule_id": str(post.schedule_id)}
        )
    return count


def _platform(value: str) -> Platform:
    if value == "instagram":
        return "instagram"
    if value == "facebook":
        return "facebook"
    raise ValueError(f"unknown platform {value!r}")
