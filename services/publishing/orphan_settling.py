"""Orphans: `sent` posts whose holder is gone, settled by asking the platform what became
of them (every round, and once at start-up), and pre-lease `sent` rows failed as unknown.

    sent, holder gone ─ reconciliation (ask the platform) ─▶ success (it is there, with its link)
                                     ├──────────────────▶ pending now (it never went out)
                                     └──────────────────▶ failed ("outcome unknown") only when
                                                          the platform cannot tell

The platform is asked using what was committed just before the visible call
(`platform_call_at`, Instagram's `container_id`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import publish_claims
from services.context import Database
from services.crypto import DecryptionError
from services.publishing.graph_errors import PublishError, service_name
from services.publishing.orphans import Orphan, Reconciler, Verdict
from services.publishing.platform_dispatch import Publisher
from services.publishing.post_outcomes import (
    OUTCOME_UNKNOWN,
    TIMED_OUT,
    fail,
    publish_failed,
    record_final_failure,
    record_success,
    requeue_now,
)
from services.publishing.post_text import NoPostText, as_platform, post_text
from services.publishing.publish_leases import (
    LEASE,
    Leases,
    default_worker_id,
    hold_as,
    holder_is_gone,
)
from services.publishing.results import PublishResult
from services.publishing.retry_policy import POST_TIMEOUT_S, STALE_AFTER
from services.publishing.round_stats import DEFAULT_CONCURRENCY, PublishRound, run_side_by_side
from services.publishing.write_turns import writing

log = logging.getLogger(__name__)


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
    hold_as(worker)
    leases = Leases(database, worker, clock)
    leases.start()
    try:
        await settle_orphans_in(
            database, publisher, reconciler, clock, worker, stats, leases, concurrency
        )
    finally:
        await leases.stop()
    return stats


async def settle_orphans_in(
    database: Database,
    publisher: Publisher,
    reconciler: Reconciler,
    clock: Callable[[], datetime],
    worker: str,
    stats: PublishRound,
    leases: Leases,
    concurrency: int,
) -> None:
    """Take over every `sent` post whose holder is gone and settle it with the platform."""
    now = clock()
    async with database.unit_of_work() as session:
        held = await publish_claims.held_posts(session)
    orphans = [
        h
        for h in held
        if h.schedule_id not in leases.ids
        and ((h.lease_until is not None and h.lease_until < now) or holder_is_gone(h.holder))
    ]
    if not orphans:
        return
    gate = asyncio.Semaphore(max(1, concurrency))

    async def settle(held_post: publish_claims.HeldPost) -> None:
        async with gate:
            async with writing(database) as session:
                adopted = await publish_claims.adopt(
                    session,
                    held_post.schedule_id,
                    holder=held_post.holder,
                    lease_until=held_post.lease_until,
                    worker_id=worker,
                    until=clock() + LEASE,
                )
                posts, _paused = (
                    await publish_claims.load_claimed(session, [held_post.schedule_id])
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

    await run_side_by_side((settle(h) for h in orphans), stats, "settling an orphaned post failed")


async def _reconcile(
    database: Database,
    publisher: Publisher,
    reconciler: Reconciler,
    post: publish_claims.ClaimedPost,
    clock: Callable[[], datetime],
    stats: PublishRound,
    worker: str,
) -> None:
    """Ask the platform what became of the orphan, then record that, before any retry."""
    stats.orphans += 1
    platform = as_platform(post.platform)
    svc = service_name(platform)
    try:
        token = database.cipher.decrypt(
            post.token_encrypted, what=f"the {svc} token of {post.account_name}"
        )
        text = post_text(post.generated_text, platform)
    except (DecryptionError, NoPostText):
        # Without a token or text nothing can be asked, and nothing was published either.
        await requeue_now(database, post, clock(), stats)
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
        await record_success(
            database, post, PublishResult(found.platform_post_id, found.permalink), now, stats
        )
    elif verdict.kind == "not_published":
        await requeue_now(database, post, now, stats)
    elif verdict.kind == "publish_container":
        try:
            async with asyncio.timeout(POST_TIMEOUT_S):
                result = await reconciler.publish_container(orphan, token)
        except PublishError as exc:
            await publish_failed(database, post, exc, clock(), stats)
            return
        except TimeoutError:
            await fail(database, post, TIMED_OUT, clock(), stats)
            return
        stats.reconciled_published += 1
        await record_success(database, post, result, clock(), stats)
    elif post.claimed_at is not None and now - post.claimed_at < STALE_AFTER:
        stats.reconciled_waiting += 1
        async with writing(database) as session:
            await publish_claims.release(session, post.schedule_id, worker_id=worker, now=now)
    else:
        # The platform could not tell for as long as a post may take: only now unknown.
        async with writing(database) as session:
            await _record_unknown(session, post, now)
        stats.failed += 1


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
        ids = await publish_claims.stale_sent(session, claimed_before=now - older_than)
        posts, _paused = await publish_claims.load_claimed(session, ids)
    count = 0
    for post in posts:
        async with writing(database) as session:
            done = await _record_unknown(session, post, now)
        if not done:
            continue  # it got its outcome meanwhile
        count += 1
        log.warning(
            "post outcome unknown after a restart", extra={"schedule_id": str(post.schedule_id)}
        )
    return count


async def _record_unknown(
    session: AsyncSession, post: publish_claims.ClaimedPost, now: datetime
) -> bool:
    """Fail the post as "outcome unknown": nobody can tell whether it went out."""
    svc = service_name(as_platform(post.platform))
    return await record_final_failure(
        session,
        schedule_id=post.schedule_id,
        piece_id=post.piece_id,
        platform=post.platform,
        account_name=post.account_name,
        reason=OUTCOME_UNKNOWN,
        now=now,
        what=f"may or may not have been published on {svc}",
    )
