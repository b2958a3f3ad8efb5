"""A publisher killed at any point of a publish: the next round asks the platform first.

The kill is simulated in-process: the publisher stops (an exception nothing catches) at
the chosen point, and its claim is handed to a dead holder on this host, as a SIGKILLed
process leaves it. The next round must find that holder gone at once, settle the post
with the fake Graph, and never post it twice. SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

import pytest
from sqlalchemy import update

from db.base import utcnow
from db.models import PostSchedule
from db.repositories import publish_claims
from services.context import Database
from services.publishing import Platform, PublishResult
from services.publishing.graph_resources import GraphResources
from services.publishing.post_outcomes import OUTCOME_UNKNOWN
from services.publishing.publish_leases import holder_is_gone
from services.publishing.publish_rounds import publish_due
from services.publishing.results import BeforeVisibleCall, VisibleCall
from services.publishing.retry_policy import STALE_AFTER
from services.publishing.round_stats import PublishRound
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.conftest import (
    IG_ID,
    PAGE_ID,
    notes_of,
    piece_of,
    rows_of,
    seed_post,
)

Point = Literal["before_call", "call_not_sent", "call_answered"]
DEAD = f"{socket.gethostname()[:60]}:{os.getpid()}:dead00"


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs."""


class DyingPublisher:
    """Publishes through the real Graph publisher and dies at `point`."""

    def __init__(self, graph: GraphResources, point: Point) -> None:
        self._graph = graph
        self._point = point

    async def publish(
        self,
        platform: Platform,
        account_id: str,
        token: str,
        text: str,
        image_urls: Sequence[str],
        *,
        before_visible_call: BeforeVisibleCall | None = None,
    ) -> PublishResult:
        assert before_visible_call is not None

        async def dying(call: VisibleCall) -> None:
            if self._point == "before_call":
                raise Killed
            await before_visible_call(call)
            if self._point == "call_not_sent":
                raise Killed

        await self._graph.publisher.publish(
            platform, account_id, token, text, image_urls, before_visible_call=dying
        )
        raise Killed  # the Graph answered; the outcome is never written


async def _kill_at(
    database: Database, graph: GraphResources, point: Point, schedule_ids: list[uuid.UUID]
) -> datetime:
    now = utcnow()
    with pytest.raises(Killed):
        await publish_due(database, DyingPublisher(graph, point), now=now)
    async with database.unit_of_work() as s:
        await s.execute(
            update(PostSchedule)
            .where(PostSchedule.id.in_(schedule_ids))
            .values(claimed_by=DEAD)
            .execution_options(synchronize_session=False)
        )
    return now


async def _round(database: Database, graph: GraphResources, now: datetime) -> PublishRound:
    return await publish_due(database, graph.publisher, now=now, reconciler=graph.reconciler)


def test_a_holder_is_gone_only_when_certainly_dead() -> None:
    host = socket.gethostname()[:60]
    assert holder_is_gone(DEAD)
    assert holder_is_gone(f"{host}:999999999:abc123")  # no such process
    assert not holder_is_gone(f"{host}:1:abc123")  # init is alive
    assert not holder_is_gone("another-host:1234:abc123")  # only its lease can tell
    assert not holder_is_gone("legacy-worker") and not holder_is_gone(None)


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
@pytest.mark.parametrize("point", ["before_call", "call_answered"])
async def test_killed_publisher_is_settled_at_once_without_a_duplicate(
    database: Database,
    fake: FakeGraphApi,
    graph: GraphResources,
    platform: str,
    point: Point,
) -> None:
    seeded = await seed_post(database, fake, platforms=[platform])
    account = PAGE_ID if platform == "facebook" else IG_ID
    now = await _kill_at(database, graph, point, seeded.schedule_ids)
    on_page = len(fake.visible_posts(account))
    assert on_page == (1 if point == "call_answered" else 0)
    containers = len(fake.containers)

    # The restart's first round, at the same moment: the dead holder is seen at once.
    result = await _round(database, graph, now)
    assert result.orphans == 1
    [row] = await rows_of(database, seeded.piece_id)
    [post] = fake.visible_posts(account)
    assert row.status == "success" and row.permalink == post.permalink
    assert fake.duplicate_count() == 0
    if point == "call_answered":
        assert result.reconciled_published == 1 and result.claimed == 0
        assert len(fake.containers) == containers  # nothing was made again
    else:
        assert result.reconciled_retried == 1 and result.claimed == 1
    assert (await piece_of(database, seeded.piece_id)).status == "posted_successfully"
    # The agent hears it once, with the link.
    [note] = await notes_of(database, seeded.agent_id)
    assert note.notification_type == "post_success" and post.permalink in note.message


async def test_instagram_container_recorded_but_never_published_is_published_as_is(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    seeded = await seed_post(database, fake, platforms=["instagram"])
    now = await _kill_at(database, graph, "call_not_sent", seeded.schedule_ids)
    [row] = await rows_of(database, seeded.piece_id)
    assert row.container_id in fake.containers and fake.visible_posts() == []
    containers = len(fake.containers)
    result = await _round(database, graph, now)
    assert result.reconciled_published == 1 and result.claimed == 0
    assert len(fake.containers) == containers  # the recorded container, not a new one
    [post] = fake.visible_posts(IG_ID)
    assert fake.containers[row.container_id].published_media_id == post.id
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "success" and row.platform_post_id == post.id


@pytest.mark.parametrize("age_h", [23.5, 25.0])
async def test_instagram_container_near_or_past_its_24_h_is_never_published_but_made_anew(
    database: Database, fake: FakeGraphApi, graph: GraphResources, age_h: float
) -> None:
    seeded = await seed_post(database, fake, platforms=["instagram"])
    now = await _kill_at(database, graph, "call_not_sent", seeded.schedule_ids)
    [row] = await rows_of(database, seeded.piece_id)
    stale = row.container_id
    assert stale is not None
    # At 23.5 h Meta still says FINISHED, but a publish could race the expiry.
    fake.advance(age_h * 3600)
    result = await _round(database, graph, now + timedelta(hours=age_h))
    assert result.reconciled_retried == 1 and result.succeeded == 1
    assert fake.containers[stale].published_media_id is None
    assert fake.graph_calls("POST", f"/{IG_ID}/media_publish")[-1].params["creation_id"] != stale
    assert len(fake.visible_posts(IG_ID)) == 1 and fake.duplicate_count() == 0


async def test_facebook_call_recorded_but_absent_waits_for_its_deadline_then_posts_once(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    seeded = await seed_post(database, fake, platforms=["facebook"])
    now = await _kill_at(database, graph, "call_not_sent", seeded.schedule_ids)
    # The call might still land: not yet.
    waiting = await _round(database, graph, now)
    assert waiting.reconciled_waiting == 1 and fake.visible_posts() == []
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "sent"
    deadline = graph.reconciler.settle_deadline(row.platform_call_at or now)
    assert (await _round(database, graph, deadline - timedelta(seconds=1))).orphans == 1
    assert fake.visible_posts() == []
    done = await _round(database, graph, deadline + timedelta(seconds=1))
    assert done.reconciled_retried == 1 and done.succeeded == 1
    assert len(fake.visible_posts(PAGE_ID)) == 1 and fake.duplicate_count() == 0


async def test_platform_that_cannot_answer_leaves_outcome_unknown_with_retry_only_at_the_end(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    seeded = await seed_post(database, fake, platforms=["facebook"])
    now = await _kill_at(database, graph, "call_answered", seeded.schedule_ids)
    fake.fail_next(f"/{PAGE_ID}/posts", times=100, method="GET", http_status=500, code=2)
    assert (await _round(database, graph, now)).reconciled_waiting == 1
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "sent"
    late = await _round(database, graph, now + STALE_AFTER + timedelta(seconds=1))
    assert late.failed == 1
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "failed" and row.error_message == OUTCOME_UNKNOWN
    [note] = await notes_of(database, seeded.agent_id)
    assert note.notification_type == "post_failed" and OUTCOME_UNKNOWN in note.message


async def test_a_live_holder_keeps_its_posts(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, platforms=["facebook", "instagram"], at=now)
    async with database.unit_of_work() as s:
        mine = await publish_claims.claim(s, now=now, worker_id="other-host:42:live01", limit=1)
    assert len(mine) == 1
    result = await _round(database, graph, now + timedelta(seconds=10))
    # The other row is published; the held one is neither touched nor taken.
    assert result.orphans == 0 and result.claimed == 1
    held = {r.id: r for r in await rows_of(database, seeded.piece_id)}[mine[0]]
    assert held.status == "sent" and held.claimed_by == "other-host:42:live01"
    async with database.unit_of_work() as s:
        assert await publish_claims.renew_leases(
            s, mine, worker_id="other-host:42:live01", until=now + timedelta(seconds=40)
        )
    # Renewed: still live past the first lease.
    assert (await _round(database, graph, now + timedelta(seconds=30))).orphans == 0
