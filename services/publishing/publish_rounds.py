"""The publish job's round: claim due posts, publish each at most once, record it.

    pending ─ claim (committed, leased) ─▶ sent ─ platform call ─▶ success
                                     ├──────────────────▶ failed  (permanent, or attempts spent)
                                     └──────────────────▶ pending (retryable: later, with back-off)

A claim is a lease renewed while the post is in flight (publish_leases); a round first
settles orphans whose holder is gone (orphan_settling), then drains the due posts. Rows of
one account are published one after the other; different accounts run side by side up to
`concurrency`. No database transaction is open during a platform call. Outcomes and their
notifications live in post_outcomes; back-off and time limits in retry_policy.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from db.base import utcnow
from db.repositories import publish_claims
from services.context import Database
from services.crypto import DecryptionError
from services.publishing.claims import LostClaim, claim_some, unclaim, visible_call_marker
from services.publishing.graph_errors import PublishError, service_name
from services.publishing.orphan_settling import settle_orphans_in
from services.publishing.orphans import Reconciler
from services.publishing.platform_dispatch import Publisher
from services.publishing.post_outcomes import (
    TIMED_OUT,
    UNEXPECTED,
    fail,
    publish_failed,
    record_success,
)
from services.publishing.post_text import NoPostText, as_platform, post_text
from services.publishing.publish_leases import Leases, default_worker_id, hold_as
from services.publishing.publish_pause import PausedMeanwhile, is_paused
from services.publishing.retry_policy import POST_TIMEOUT_S
from services.publishing.round_stats import DEFAULT_CONCURRENCY, PublishRound, run_side_by_side

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500
# Posts of one account claimed in one write; published one after the other.
CLAIM_AHEAD = 4


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
    hold_as(worker)
    leases = Leases(database, worker, clock)
    leases.start()
    try:
        if reconciler is not None:
            await settle_orphans_in(
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
    leases: Leases,
    batch: int,
    concurrency: int,
    post_timeout_s: float,
) -> None:
    async with database.unit_of_work() as session:
        accounts = await publish_claims.due_accounts(session, now=clock(), limit=max(1, batch))
    gate = asyncio.Semaphore(max(1, concurrency))
    claiming = 0  # claims in flight: they count against `batch` until they return
    changed = asyncio.Event()

    async def publish(post: publish_claims.ClaimedPost) -> None:
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
                    posts = await claim_some(database, account_pk, clock(), worker, stats, want)
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
                        await unclaim(database, posts[i:], worker, clock(), stats, leases)
                        return
                    await publish(post)

    await run_side_by_side((drain(a) for a in accounts), stats, "publish worker failed")


async def _publish_claimed(
    database: Database,
    publisher: Publisher,
    post: publish_claims.ClaimedPost,
    clock: Callable[[], datetime],
    stats: PublishRound,
    post_timeout_s: float,
    worker: str,
) -> None:
    """Publish one claimed post outside any transaction and record the outcome."""
    platform = as_platform(post.platform)
    svc = service_name(platform)
    if not post.account_active:
        reason = (post.deactivated_reason or "").strip().rstrip(".")
        why = f" ({reason})" if reason else ""
        await fail(
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
        await fail(database, post, str(exc), clock(), stats)
        return
    try:
        text = post_text(post.generated_text, platform)
    except NoPostText as exc:
        log.warning("post has no text of its own", extra={"schedule_id": str(post.schedule_id)})
        await fail(database, post, str(exc), clock(), stats)
        return
    try:
        async with asyncio.timeout(post_timeout_s):
            result = await publisher.publish(
                platform,
                post.account_id,
                token,
                text,
                post.image_urls,
                before_visible_call=visible_call_marker(database, post, clock, worker),
            )
    except LostClaim:
        log.warning("post taken over before its call", extra={"schedule_id": str(post.schedule_id)})
        return
    except PausedMeanwhile:
        stats.paused = True
        await unclaim(database, [post], worker, clock(), stats, None)
        return
    except PublishError as exc:
        await publish_failed(database, post, exc, clock(), stats)
        return
    except TimeoutError:
        log.warning("post timed out", extra={"schedule_id": str(post.schedule_id)})
        await fail(database, post, TIMED_OUT, clock(), stats)
        return
    except Exception:
        log.exception("post raised unexpectedly", extra={"schedule_id": str(post.schedule_id)})
        await fail(database, post, UNEXPECTED, clock(), stats)
        return
    await record_success(database, post, result, clock(), stats)
