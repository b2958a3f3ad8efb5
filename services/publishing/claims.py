"""Claiming due posts, giving unstarted ones back, and the check just before the visible
platform call that the post is still ours and publishing is not paused.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from db.repositories import publish_claims
from services.context import Database
from services.publishing.publish_leases import LEASE, Leases
from services.publishing.publish_pause import PausedMeanwhile, paused_in
from services.publishing.results import VisibleCall
from services.publishing.round_stats import PublishRound
from services.publishing.write_turns import writing


class LostClaim(Exception):
    """The post was taken over by another process (our lease lapsed): do not publish it."""


async def claim_some(
    database: Database,
    account_pk: uuid.UUID,
    now: datetime,
    worker: str,
    stats: PublishRound,
    limit: int,
) -> list[publish_claims.ClaimedPost]:
    """Claim the account's next `limit` due posts in their own committed transaction.

    Claiming a few at once saves a write per post; the ones still waiting are leased like
    any other, and a crash leaves them orphans that never reached the platform.
    """
    try:
        async with writing(database) as session:
            ids = await publish_claims.claim(
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
            posts, paused = await publish_claims.load_claimed(session, ids)
            if paused:
                raise PausedMeanwhile
    except PausedMeanwhile:
        stats.paused = True
        return []
    return posts


async def unclaim(
    database: Database,
    posts: list[publish_claims.ClaimedPost],
    worker: str,
    now: datetime,
    stats: PublishRound,
    leases: Leases | None,
) -> None:
    """Give back claimed posts that were never started (publishing was paused)."""
    ids = [p.schedule_id for p in posts]
    async with writing(database) as session:
        await publish_claims.unclaim(session, ids, worker_id=worker, now=now)
    stats.claimed -= len(ids)
    if leases is not None:
        leases.ids.difference_update(ids)


def visible_call_marker(
    database: Database, post: publish_claims.ClaimedPost, clock: Callable[[], datetime], worker: str
) -> Callable[[VisibleCall], Awaitable[None]]:
    """Commit the visible call (and its container) before it is made, or stop it when the
    post is no longer ours."""

    async def before_visible_call(call: VisibleCall) -> None:
        async with writing(database) as session:
            ours = await publish_claims.mark_platform_call(
                session,
                post.schedule_id,
                worker_id=worker,
                at=clock(),
                container_id=call.container_id,
                container_created_at=call.container_created_at,
            )
            # Read after the write, so that a /pause committed meanwhile rolls it back
            # and the call is not made (no read of its own per post).
            if ours and await paused_in(session):
                raise PausedMeanwhile
        if not ours:
            raise LostClaim

    return before_visible_call
