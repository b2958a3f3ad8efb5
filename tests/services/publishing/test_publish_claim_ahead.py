"""One account's posts are claimed a few at a time; a pause gives back those not started."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from db.base import utcnow
from db.models import PostSchedule
from db.repositories import app_state
from services.context import Database
from services.publishing import Platform, PublishResult
from services.publishing.graph_resources import GraphResources
from services.publishing.publish_rounds import CLAIM_AHEAD, publish_due
from services.publishing.results import BeforeVisibleCall
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.conftest import PAGE_ID, seed_post


async def test_pause_mid_chunk_gives_the_unstarted_posts_back(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    first = await seed_post(database, fake, platforms=["facebook"], at=now, text="A")
    for text in ("B", "C"):
        await seed_post(
            database,
            fake,
            platforms=["facebook"],
            at=now,
            agent_id=first.agent_id,
            accounts=first.account_pks,
            text=text,
        )
    assert CLAIM_AHEAD >= 3
    claims_seen: list[int] = []

    class PausingPublisher:
        async def publish(
            self,
            platform: Platform,
            account_id: str,
            token: str,
            text: str,
            urls: Sequence[str],
            *,
            before_visible_call: BeforeVisibleCall | None = None,
        ) -> PublishResult:
            async with database.unit_of_work() as s:
                sent = await s.scalars(select(PostSchedule).where(PostSchedule.status == "sent"))
                claims_seen.append(len(sent.all()))
            result = await graph.publisher.publish(
                platform, account_id, token, text, urls, before_visible_call=before_visible_call
            )
            async with database.unit_of_work() as s:
                await app_state.set_value(s, app_state.PUBLISHING_PAUSED, True)
            return result

    midway = await publish_due(database, PausingPublisher(), now=now)
    # All three were claimed in one write; only the first went out: the second saw the
    # pause in the write before its visible call, the third was never started.
    assert claims_seen == [3, 2]
    assert midway.paused and midway.succeeded == 1 and midway.claimed == 1
    async with database.unit_of_work() as s:
        rows = (await s.scalars(select(PostSchedule))).all()
    waiting = [r for r in rows if r.status == "pending"]
    assert len(waiting) == 2
    assert all(r.attempts == 0 and r.claimed_by is None and r.lease_until is None for r in waiting)

    async with database.unit_of_work() as s:
        await app_state.set_value(s, app_state.PUBLISHING_PAUSED, False)
    resumed = await publish_due(database, graph.publisher, now=now)
    assert resumed.succeeded == 2
    assert len(fake.visible_posts(PAGE_ID)) == 3 and fake.duplicate_count() == 0
