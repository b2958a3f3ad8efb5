"""The publish job: claim due posts, publish each at most once, record it, tell the agent.

    pending ─ claim (committed, leased) ─▶ sent ─ platform call ─▶ success
                                     ├──────────────────▶ failed  (permanent, or attempts spent)
                                     └──────────────────▶ pending (retryable: later, with back-off)
    sent, holder gone ─ reconciliation (ask the platform) ─▶ success (it is there, with its link)
                                     ├──────────────────▶ pending now (it never went out)
                                     └──────────────────▶ failed ("outcome unknown") only when
                                                          the platform cannot tell

A claim is a lease: the holder (host:pid:nonce) renews `lease_until` every HEARTBEAT while
it publishes. A `sent` post whose lease lapsed, or whose holder is a dead process on this
host, is an orphan: every round (and the start-up recovery) takes it over and asks the
platform, using what was committed just before the visible call (`platform_call_at`,
Instagram's `container_id`).

Rows of one account are published one after the other; different accounts run side by
side up to `concurrency`. No database transaction is open during a platform call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import app_state, transitions
from db.repositories import publishing as repo
from db.repositories.transitions import Request
from db.status import NotificationType, ScheduleStatus
from services import metrics
from services import status_machine as machine
from services.context import Database
from services.crypto import DecryptionError
from services.notifying.notification_rows import notify
from services.outbound import OutboundClient
from services.publishing import GraphClient, GraphPublisher, Platform, Publisher, PublishError
from services.publishing.graph_errors import service_name
from services.publishing.orphans import Orphan, Reconciler, Verdict
from services.publishing.results import PublishResult, VisibleCall

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
# A claim lapses LEASE after its last renewal; the holder renews every HEARTBEAT_S, so a
# live holder misses three renewals in a row before anyone may take its post.
LEASE = repo.DEFAULT_LEASE
HEARTBEAT_S = 5.0
DEFAULT_BATCH = 500
DEFAULT_CONCURRENCY = 32
# Posts of one account claimed in one write; published one after the other.
CLAIM_AHEAD = 4

OUTCOME_UNKNOWN = "Outcome unknown — please check your page; it was not posted again automatically."
UNEXPECTED = (
    "Publishing stopped on an unexpected error, so the post may or may not be on your page; "
    "please check your page before tapping Retry."
)
TIMED_OUT = (
    "The platform did not finish in time, so the post may or may not be on your page; "
    "please check your page before tapping Retry."
)


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
    orphans: int = 0
    reconciled_published: int = 0
    reconciled_retried: int = 0
    reconciled_waiting: int = 0


@dataclass
class GraphResources:
    """One HTTP session, Graph client and publisher for the whole process.

    `images` is the guarded session that fetches photos for the pre-flight checks.
    """

    session: aiohttp.ClientSession
    client: GraphClient
    publisher: GraphPublisher
    images: OutboundClient
    reconciler: Reconciler

    @classmethod
    def open(
        cls,
        base_url: str,
        *,
        listings_base_url: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_base_s: float = 1.0,
        max_backoff_s: float = 30.0,
        poll_interval_s: float = 1.0,
        poll_timeout_s: float = 60.0,
        check_quota: bool = True,
        visible_call_margin: timedelta | None = None,
    ) -> GraphResources:
        """Create them (call from a running event loop); close with `aclose`.

        `listings_base_url` is the builder's site: its photos pass the pre-flight guard
        even when it runs on a private address.
        """
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        images = OutboundClient(listings_base_url)
        client = GraphClient(
            session,
            base_url,
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            max_backoff_s=max_backoff_s,
        )
        publisher = GraphPublisher(
            client,
            images,
            check_quota=check_quota,
            poll_interval_s=poll_interval_s,
            poll_timeout_s=poll_timeout_s,
        )
        reconciler = Reconciler(
            client, poll_interval_s=poll_interval_s, poll_timeout_s=poll_timeout_s
        )
        if visible_call_margin is not None:
            reconciler.margin = visible_call_margin
        return cls(session, client, publisher, images, reconciler)

    async def aclose(self) -> None:
        """Close the HTTP sessions."""
        await self.session.close()
        await self.images.close()


def default_worker_id() -> str:
    """Who claims rows: host, process and a random suffix (shown in `claimed_by`)."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


_HOST = socket.gethostname()[:60]
# Holder ids this process has published under: a holder naming this process's pid but
# absent here belongs to an earlier process that had the same pid.
_OWN_HOLDERS: set[str] = set()


def holder_is_gone(holder: str | None) -> bool:
    """Whether `holder` is certainly a dead process on this host (`host:pid:nonce`).

    Holders on other hosts, or not of that shape, count as alive: only their lease lapsing
    tells they are gone.
    """
    if not holder:
        return False
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _HOST or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return holder not in _OWN_HOLDERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


class _LostClaim(Exception):
    """The post was taken over by another process (our lease lapsed): do not publish it."""


class _Leases:
    """The posts this round holds, renewed every HEARTBEAT_S while they are in flight."""

    def __init__(self, database: Database, worker: str, clock: Callable[[], datetime]) -> None:
        self.ids: set[uuid.UUID] = set()
        self._database = database
        self._worker = worker
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name="publish-lease-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if not self.ids:
                continue
            try:
                async with _writing(self._database) as session:
                    await repo.renew_leases(
                        session, list(self.ids), worker_id=self._worker, until=self._clock() + LEASE
                    )
            except Exception:
                # A missed renewal is survivable: the lease outlasts two more.
                log.warning("lease renewal failed", exc_info=True)


class NoPostText(ValueError):
    """The piece has no text written for the platform (flyer text, for one): never publish."""


def post_text(generated_text: Mapping[str, Any], platform: str) -> str:
    """The text to publish on `platform`: exactly the platform's own text, as the agent saw it.

    Nothing is pieced together from other fields: that would publish what the agent never
    saw, without the brokerage and Equal Housing line. Raises `NoPostText` without it.
    """
    own = generated_text.get(f"{platform}_text")
    if isinstance(own, str) and own.strip():
        return own.strip()
    svc = service_name(_platform(platform))
    raise NoPostText(f"This draft has no text written for {svc}, so nothing was published there.")


def retry_delay(attempts: int, hint_s: float | None = None) -> timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4, 8… minutes (≤ 1 h), or the Graph's hint."""
    exponential_s = min(
        RETRY_BASE.total_seconds() * 2.0 ** max(0, attempts - 1), RETRY_MAX.total_seconds()
    )
    if hint_s:
        return timedelta(seconds=min(max(exponential_s, hint_s), RETRY_HINT_MAX.total_seconds()))
    return timedelta(seconds=exponential_s)


_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def _writing(database: Database) -> AsyncIterator[AsyncSession]:
    """A unit of work that writes.

    SQLite has one writer at a time and makes the others poll (sleeping up to 100 ms a
    try); letting this process's publishers take turns instead is several times faster.
    """
    if database.engine.dialect.name != "sqlite":
        async with database.unit_of_work() as session:
            yield session
        return
    lock = _SQLITE_WRITERS.setdefault(database.engine.sync_engine, asyncio.Lock())
    async with lock, database.unit_of_work() as session:
        yield session


async def is_paused(database: Database) -> bool:
    """Whether an admin paused publishing (/pause)."""
    async with database.unit_of_work() as session:
        return await _paused(session)


async def set_paused(database: Database, paused: bool) -> None:
    """Stop (/pause) or restart (/resume) all publishing; scheduled posts wait meanwhile."""
    async with database.unit_of_work() as session:
        await app_state.set_value(session, app_state.PUBLISHING_PAUSED, paused)


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
    reconciler: Reconciler | None = None,
) -> PublishRound:
    """Settle orphaned posts, then publish up to `batch` due posts, `concurrency` at a time,
    one at a time per account.

    `reconciler` asks the platform about orphans (posts whose holder is gone); without it
    they are left for a round that has one. `now` fixes the clock (tests); by default each
    step reads the current time. Does nothing while publishing is paused; a pause during
    the round stops further claims.
    """
    started = time.monotonic()
    stats = PublishRound()
    if await is_paused(database):
        stats.paused = True
        return stats
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    worker = worker_id or default_worker_id()
    _OWN_HOLDERS.add(worker)
    leases = _Leases(database, worker, clock)
    leases.start()
    try:
        if reconciler is not None:
            await _settle_orphans(
                database, publisher, reconciler, clock, worker, stats, leases, concurrency
            )
        await _drain_due(
            database, publisher, clock, worker, stats, leases, batch, concurrency, post_timeout_s
        )
    finally:
        await leases.stop()
    stats.elapsed_s = time.monotonic() - started
    return stats


async def _drain_due(
    database: Database,
    publisher: Publisher,
    clock: Callable[[], datetime],
    worker: str,
    stats: PublishRound,
    leases: _Leases,
    batch: int,
    concurrency: int,
    post_timeout_s: float,
) -> None:
    async with database.unit_of_work() as session:
        accounts = await repo.due_accounts(session, now=clock(), limit=max(1, batch))
    gate = asyncio.Semaphore(max(1, concurrency))
    claiming = 0  # claims in flight: they count against `batch` until they return
    changed = asyncio.Event()

    async def publish(post: repo.ClaimedPost) -> None:
        try:
            await _publish_claimed(database, publisher, post, clock, stats, post_timeout_s, worker)
        finally:
            leases.ids.discard(post.schedule_id)

    async def drain(account_pk: uuid.UUID) -> None:
        nonlocal claiming
        while not stats.paused:
            room = batch - stats.claimed - claiming
            if room <= 0:
                if claiming == 0:
                    return
                # An empty claim elsewhere may give its share of the batch back.
                changed.clear()
                await changed.wait()
                continue
            want = min(CLAIM_AHEAD, room)
            async with gate:
                if stats.paused or stats.claimed + claiming >= batch:
                    continue
                claiming += want
                try:
                    posts = await _claim_some(database, account_pk, clock(), worker, stats, want)
                finally:
                    claiming -= want
                    changed.set()
                if not posts:
                    return
                stats.claimed += len(posts)
                leases.ids.update(p.schedule_id for p in posts)
                await publish(posts[0])
            for i, post in enumerate(posts[1:], start=1):
                async with gate:
                    # A /pause seen meanwhile stops the rest; they wait, unclaimed. (Each
                    # post's own check is in the write just before its visible call.)
                    if stats.paused:
                        await _unclaim(database, posts[i:], worker, clock(), stats, leases)
                        return
                    await publish(post)

    results = await asyncio.gather(*(drain(a) for a in accounts), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            stats.errors += 1
            log.error("publish worker failed", exc_info=result)
        elif isinstance(result, BaseException):
            raise result


async def _claim_some(
    database: Database,
    account_pk: uuid.UUID,
    now: datetime,
    worker: str,
    stats: PublishRound,
    limit: int,
) -> list[repo.ClaimedPost]:
    """Claim the account's next `limit` due posts in their own committed transaction.

    Claiming a few at once saves a write per post; the ones still waiting are leased like
    any other, and a crash leaves them orphans that never reached the platform.
    """
    try:
        async with _writing(database) as session:
            ids = await repo.claim(
                session,
                now=now,
                worker_id=worker,
                limit=limit,
                account_pk=account_pk,
                lease_until=now + LEASE,
            )
            if not ids:
                return []
            # Read after the claim's write, so a /pause committed meanwhile rolls it back.
            posts, paused = await repo.load_claimed(session, ids)
            if paused:
                raise _PausedMeanwhile
    except _PausedMeanwhile:
        stats.paused = True
        return []
    return posts


async def _unclaim(
    database: Database,
    posts: list[repo.ClaimedPost],
    worker: str,
    now: datetime,
    stats: PublishRound,
    leases: _Leases | None,
) -> None:
    """Give back claimed posts that were never started (publishing was paused)."""
    ids = [p.schedule_id for p in posts]
    async with _writing(database) as session:
        await repo.unclaim(session, ids, worker_id=worker, now=now)
    stats.claimed -= len(ids)
    if leases is not None:
        leases.ids.difference_update(ids)


async def _publish_claimed(
    database: Database,
    publisher: Publisher,
    post: repo.ClaimedPost,
    clock: Callable[[], datetime],
    stats: PublishRound,
    post_timeout_s: float,
    worker: str,
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
    try:
        text = post_text(post.generated_text, platform)
    except NoPostText as exc:
        log.warning("post has no text of its own", extra={"schedule_id": str(post.schedule_id)})
        await _fail(database, post, str(exc), clock(), stats)
        return
    try:
        async with asyncio.timeout(post_timeout_s):
            result = await publisher.publish(
                platform,
                post.account_id,
                token,
                text,
                post.image_urls,
                before_visible_call=_marker(database, post, clock, worker),
            )
    except _LostClaim:
        log.warning("post taken over before its call", extra={"schedule_id": str(post.schedule_id)})
        return
    except _PausedMeanwhile:
        stats.paused = True
        await _unclaim(database, [post], worker, clock(), stats, None)
        return
    except PublishError as exc:
        await _publish_failed(database, post, exc, clock(), stats)
        return
    except TimeoutError:
        log.warning("post timed out", extra={"schedule_id": str(post.schedule_id)})
        await _fail(database, post, TIMED_OUT, clock(), stats)
        return
    except Exception:
        log.exception("post raised unexpectedly", extra={"schedule_id": str(post.schedule_id)})
        await _fail(database, post, UNEXPECTED, clock(), stats)
        return
    await _record_success(database, post, result, clock(), stats)


async def _publish_failed(
    database: Database,
    post: repo.ClaimedPost,
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
        await _requeue(database, post, exc, now, stats)
    else:
        await _fail(
            database, post, exc.user_message, now, stats, deactivate=exc.deactivates_account
        )


def _marker(
    database: Database, post: repo.ClaimedPost, clock: Callable[[], datetime], worker: str
) -> Callable[[VisibleCall], Awaitable[None]]:
    """Commit the visible call (and its container) before it is made, or stop it when the
    post is no longer ours."""

    async def before_visible_call(call: VisibleCall) -> None:
        async with _writing(database) as session:
            ours = await repo.mark_platform_call(
                session,
                post.schedule_id,
                worker_id=worker,
                at=clock(),
                container_id=call.container_id,
                container_created_at=call.container_created_at,
            )
            # Read after the write, so that a /pause committed meanwhile rolls it back
            # and the call is not made (no read of its own per post).
            if ours and await _paused(session):
                raise _PausedMeanwhile
        if not ours:
            raise _LostClaim

    return before_visible_call


async def _record_success(
    database: Database,
    post: repo.ClaimedPost,
    result: PublishResult,
    now: datetime,
    stats: PublishRound,
) -> None:
    async with _writing(database) as session:
        finished, piece = await _change_post(
            session,
            post.piece_id,
            lambda: repo.record_success(
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


async def _requeue(
    database: Database,
    post: repo.ClaimedPost,
    exc: PublishError,
    now: datetime,
    stats: PublishRound,
) -> None:
    at = now + retry_delay(post.attempts, exc.retry_after_s)
    async with _writing(database) as session:
        await repo.requeue(
            session, post.schedule_id, at=at, error_message=exc.user_message, now=now
        )
    stats.retried += 1
    metrics.record_post(post.platform, "retried")


async def _change_post(
    session: AsyncSession,
    piece_id: uuid.UUID,
    change: Callable[[], Awaitable[repo.Finished | None]],
) -> tuple[repo.Finished | None, repo.PieceForOutcome | None]:
    """Lock the piece and give one of its posts its outcome, in the order each database needs.

    PostgreSQL: the piece lock first, so that posts of one piece finish one after the other
    and the count of posts still waiting is exact. SQLite: the write first (it takes the
    database's write lock; a read first could fail to upgrade), then the piece.
    """
    if session.get_bind().dialect.name == "postgresql":
        piece = await repo.lock_piece(session, piece_id)
        return await change(), piece
    finished = await change()
    return finished, (await repo.lock_piece(session, piece_id) if finished else None)


async def _fail(
    database: Database,
    post: repo.ClaimedPost,
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
        async with _writing(database) as session:
            deactivated = await repo.deactivate_account(
                session, post.account_pk, reason=reason, now=now
            )
    async with _writing(database) as session:
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
        lambda: repo.record_failure(
            session, schedule_id, piece_id=piece_id, error_message=reason, now=now
        ),
    )
    if finished is None:
        return False
    if piece is None:
        return True
    await transitions.apply_in(session, machine.PUBLISH_FAILED, Request(piece_id, now=now))
    svc = service_name(_platform(platform))
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
        f"{service_name(_platform(o.platform))} ({o.account_name})"
        + (f": {o.permalink}" if o.permalink else "")
        for o in live.values()
    )
    message = f"Your post about {piece.listing_address} is live on {places}."
    if unresolved:
        message += " It could not be published everywhere; see the message about the failure."
    await notify(session, piece.agent, NotificationType.POST_SUCCESS, message, piece_id)


NOT_SENT_RETRIED = "The publisher stopped before this post went out; it was queued again."


async def settle_orphans(
    database: Database,
    publisher: Publisher,
    reconciler: Reconciler,
    *,
    now: datetime | None = None,
    worker_id: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> PublishRound:
    """At start-up: settle the posts of publishers that are gone (as every round does)."""
    stats = PublishRound()
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    worker = worker_id or default_worker_id()
    _OWN_HOLDERS.add(worker)
    leases = _Leases(database, worker, clock)
    leases.start()
    try:
        await _settle_orphans(
            database, publisher, reconciler, clock, worker, stats, leases, concurrency
        )
    finally:
        await leases.stop()
    return stats


async def _settle_orphans(
    database: Database,
    publisher: Publisher,
    reconciler: Reconciler,
    clock: Callable[[], datetime],
    worker: str,
    stats: PublishRound,
    leases: _Leases,
    concurrency: int,
) -> None:
    """Take over every `sent` post whose holder is gone and settle it with the platform."""
    now = clock()
    async with database.unit_of_work() as session:
        held = await repo.held_posts(session)
    orphans = [
        h
        for h in held
        if h.schedule_id not in leases.ids
        and ((h.lease_until is not None and h.lease_until < now) or holder_is_gone(h.holder))
    ]
    if not orphans:
        return
    gate = asyncio.Semaphore(max(1, concurrency))

    async def settle(held_post: repo.HeldPost) -> None:
        async with gate:
            async with _writing(database) as session:
                adopted = await repo.adopt(
                    session,
                    held_post.schedule_id,
                    holder=held_post.holder,
                    lease_until=held_post.lease_until,
                    worker_id=worker,
                    until=clock() + LEASE,
                )
                posts, _paused = (
                    await repo.load_claimed(session, [held_post.schedule_id])
                    if adopted
                    else ([], False)
                )
            if not posts:
                return  # another process took it, or its holder renewed it meanwhile
            leases.ids.add(held_post.schedule_id)
            try:
                await _reconcile(database, publisher, reconciler, posts[0], clock, stats, worker)
            finally:
                leases.ids.discard(held_post.schedule_id)

    results = await asyncio.gather(*(settle(h) for h in orphans), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            stats.errors += 1
            log.error("settling an orphaned post failed", exc_info=result)
        elif isinstance(result, BaseException):
            raise result


async def _reconcile(
    database: Database,
    publisher: Publisher,
    reconciler: Reconciler,
    post: repo.ClaimedPost,
    clock: Callable[[], datetime],
    stats: PublishRound,
    worker: str,
) -> None:
    """Ask the platform what became of the orphan, then record that, before any retry."""
    stats.orphans += 1
    platform = _platform(post.platform)
    svc = service_name(platform)
    try:
        token = database.cipher.decrypt(
            post.token_encrypted, what=f"the {svc} token of {post.account_name}"
        )
        text = post_text(post.generated_text, platform)
    except (DecryptionError, NoPostText):
        # Without a token or text nothing can be asked, and nothing was published either.
        await _requeue_now(database, post, clock(), stats)
        return
    orphan = Orphan(
        platform=platform,
        account_id=post.account_id,
        text=text,
        claimed_at=post.claimed_at,
        platform_call_at=post.platform_call_at,
        container_id=post.container_id,
        container_created_at=post.container_created_at,
    )
    now = clock()
    try:
        verdict = await reconciler.check(orphan, token, now)
    except PublishError as exc:
        verdict = Verdict("wait", f"the platform could not be asked ({exc.kind})")
    log.info(
        "orphaned post reconciled",
        extra={"schedule_id": str(post.schedule_id), "verdict": verdict.kind, "why": verdict.why},
    )
    if verdict.kind == "published" and verdict.found is not None:
        stats.reconciled_published += 1
        found = verdict.found
        await _record_success(
            database, post, PublishResult(found.platform_post_id, found.permalink), now, stats
        )
    elif verdict.kind == "not_published":
        await _requeue_now(database, post, now, stats)
    elif verdict.kind == "publish_container":
        try:
            async with asyncio.timeout(POST_TIMEOUT_S):
                result = await reconciler.publish_container(orphan, token)
        except PublishError as exc:
            await _publish_failed(database, post, exc, clock(), stats)
            return
        except TimeoutError:
            await _fail(database, post, TIMED_OUT, clock(), stats)
            return
        stats.reconciled_published += 1
        await _record_success(database, post, result, clock(), stats)
    elif post.claimed_at is not None and now - post.claimed_at < STALE_AFTER:
        stats.reconciled_waiting += 1
        async with _writing(database) as session:
            await repo.release(session, post.schedule_id, worker_id=worker, now=now)
    else:
        # The platform could not tell for as long as a post may take: only now unknown.
        async with _writing(database) as session:
            await record_final_failure(
                session,
                schedule_id=post.schedule_id,
                piece_id=post.piece_id,
                platform=post.platform,
                account_name=post.account_name,
                reason=OUTCOME_UNKNOWN,
                now=now,
                what=f"may or may not have been published on {svc}",
            )
        stats.failed += 1


async def _requeue_now(
    database: Database, post: repo.ClaimedPost, now: datetime, stats: PublishRound
) -> None:
    """It never went out: publish it again at once (attempts permitting)."""
    if post.attempts >= MAX_ATTEMPTS:
        await _fail(
            database,
            post,
            f"Publishing stopped {post.attempts} times before this post went out; tap Retry.",
            now,
            stats,
        )
        return
    async with _writing(database) as session:
        await repo.requeue(
            session, post.schedule_id, at=now, error_message=NOT_SENT_RETRIED, now=now
        )
    stats.reconciled_retried += 1
    metrics.record_post(post.platform, "retried")


async def recover_stale(
    database: Database,
    *,
    now: datetime | None = None,
    older_than: timedelta = STALE_AFTER,
) -> int:
    """Posts left `sent` without a lease (claimed by a version before leases) become
    failed once `older_than` passed: nothing tells how far they got. Leased posts are
    settled with the platform by `settle_orphans` and every round instead.

    Returns how many were marked failed.
    """
    now = now or utcnow()
    async with database.unit_of_work() as session:
        ids = await repo.stale_sent(session, claimed_before=now - older_than)
        posts, _paused = await repo.load_claimed(session, ids)
    count = 0
    for post in posts:
        svc = service_name(_platform(post.platform))
        async with _writing(database) as session:
            done = await record_final_failure(
                session,
                schedule_id=post.schedule_id,
                piece_id=post.piece_id,
                platform=post.platform,
                account_name=post.account_name,
                reason=OUTCOME_UNKNOWN,
                now=now,
                what=f"may or may not have been published on {svc}",
            )
        if not done:
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
