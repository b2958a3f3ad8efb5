"""The weekly digest with a frozen clock against the fake Graph insights: a valid PNG chart,
numbers that match the insights, the best post's link, admins' brokerage-wide digest, once."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import select

from db.models import Agent, Notification, PostSchedule
from services.context import Database
from services.notifying.weekly_digest import WeeklyDigest, digest_week
from services.publishing.graph_client import GraphClient
from tests.factories import make_account, make_agent, make_listing, make_piece
from tests.fakes.graph_api import FakeGraphApi, FakePost
from tests.services.test_delivery import RecordingNotifier

NY = "America/New_York"
MONDAY_0930 = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # Monday 09:30 in New York
IN_WEEK = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # Wednesday of the week reported
ADMIN = 999


@dataclass
class World:
    database: Database
    graph: FakeGraphApi
    client: GraphClient


@pytest.fixture
async def world(database: Database) -> AsyncIterator[World]:
    async with FakeGraphApi() as graph, aiohttp.ClientSession() as session:
        graph.add_page("p1", "page-token", "Jane's Page")
        graph.add_ig_user("ig1", "ig-token", "jane.homes")
        yield World(database, graph, GraphClient(session, graph.base_url, max_retries=0))


async def _agent(w: World, chat: int, **values: object) -> Agent:
    async with w.database.unit_of_work() as s:
        return await make_agent(s, telegram_chat_id=chat, name=f"Agent {chat}", **values)


async def _published(
    w: World, agent: Agent, platform: str, post_id: str, at: datetime, address: str
) -> None:
    """A post that went out at `at`, known to the fake Graph."""
    token = "page-token" if platform == "facebook" else "ig-token"
    permalink = f"https://example.social/{post_id}"
    w.graph.posts.append(
        FakePost(
            post_id,
            "p1" if platform == "facebook" else "ig1",
            platform,
            "m",
            [],
            permalink,
            time.time(),
        )
    )
    async with w.database.unit_of_work() as s:
        account = await make_account(
            s, agent, platform, access_token_encrypted=w.database.cipher.encrypt(token)
        )
        piece = await make_piece(
            s, agent, await make_listing(s, address=address), status="posted_successfully"
        )
        s.add(
            PostSchedule(
                content_piece_id=piece.id,
                social_media_account_id=account.id,
                scheduled_at=at,
                posted_at=at,
                status="success",
                platform_post_id=post_id,
                permalink=permalink,
            )
        )


async def _run(w: World, notifier: RecordingNotifier, now: datetime) -> int:
    return await WeeklyDigest(
        w.database, notifier, w.client, default_timezone=NY, admin_ids=[ADMIN]
    ).run(now)


async def test_agent_and_admin_digests_match_the_insights(world: World) -> None:
    w = world
    jane = await _agent(w, 501)
    sam = await _agent(w, 502)
    await _published(w, jane, "facebook", "p1_11", IN_WEEK, "12 Oak Trail")
    await _published(w, jane, "instagram", "ig_22", IN_WEEK + timedelta(days=1), "40 Elm Court")
    await _published(w, jane, "instagram", "ig_33", IN_WEEK - timedelta(days=9), "Old Home")
    await _published(w, sam, "facebook", "p1_44", IN_WEEK, "7 Bay Road")
    w.graph.set_insights("p1_11", post_total_media_view_unique=320, post_media_view=900)
    w.graph.set_insights("ig_22", reach=410, views=1200)
    w.graph.set_insights("ig_33", reach=99_999, views=99_999)  # the week before: not counted
    w.graph.set_insights("p1_44", post_total_media_view_unique=50)  # views not reported
    notifier = RecordingNotifier()

    assert await _run(w, notifier, MONDAY_0930) == 3
    by_chat = {chat: (png, caption) for chat, png, caption in notifier.photos}
    assert set(by_chat) == {501, 502, ADMIN}
    png, caption = by_chat[501]
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == 1080
    assert "Nov 30 – Dec 6, 2026" in caption
    assert "2 posts · reach 730 · views 2,100" in caption
    assert "Best: 40 Elm Court on Instagram (reach 410, views 1,200)" in caption
    assert "https://example.social/ig_22" in caption
    assert "reach 50" in by_chat[502][1] and "views" not in by_chat[502][1].split("\n")[0]
    assert "3 posts · reach 780 · views 2,100" in by_chat[ADMIN][1]
    # One insights call per post of the week, both metrics in it.
    asked = [c for c in w.graph.graph_calls("GET") if c.path.endswith("/insights")]
    assert sorted(c.path for c in asked) == [
        "/ig_22/insights",
        "/p1_11/insights",
        "/p1_44/insights",
    ]

    # Once a week: the next run that Monday sends nothing.
    assert await _run(w, notifier, MONDAY_0930 + timedelta(hours=1)) == 0
    async with w.database.unit_of_work() as s:
        notes = (await s.execute(select(Notification))).scalars().all()
    assert sorted(n.notification_type for n in notes) == ["weekly_digest", "weekly_digest"]
    assert all(n.delivery_status == "sent" for n in notes)


async def test_unsupported_metrics_are_skipped_not_errors(world: World) -> None:
    w = world
    jane = await _agent(w, 503)
    await _published(w, jane, "instagram", "ig_55", IN_WEEK, "9 Pine Way")
    w.graph.set_insights("ig_55", reach=70, views=300)
    # This media product type no longer supports `views`: Graph fails the request with code 100.
    w.graph.insight_metrics["instagram"].discard("views")
    notifier = RecordingNotifier()
    assert await _run(w, notifier, MONDAY_0930) == 2
    caption = next(c for chat, _, c in notifier.photos if chat == 503)
    assert "1 post · reach 70." in caption and "views" not in caption
    # The refused pair, then each metric on its own.
    asked = [c for c in w.graph.graph_calls("GET") if c.path == "/ig_55/insights"]
    assert [c.params["metric"] for c in asked] == ["reach,views", "reach", "views"]


async def test_a_post_too_few_people_saw_is_listed_without_numbers(world: World) -> None:
    w = world
    jane = await _agent(w, 504)
    await _published(w, jane, "instagram", "ig_66", IN_WEEK, "3 Palm Court")
    await _published(w, jane, "facebook", "p1_77", IN_WEEK, "8 Lake Drive")
    w.graph.set_insights("p1_77", post_total_media_view_unique=40, post_media_view=90)
    w.graph.few_viewers.add("ig_66")
    notifier = RecordingNotifier()
    assert await _run(w, notifier, MONDAY_0930) == 2
    caption = next(c for chat, _, c in notifier.photos if chat == 504)
    assert "2 posts · reach 40 · views 90" in caption
    # Graph said so once for both numbers: no call per metric.
    assert len([c for c in w.graph.graph_calls("GET") if c.path == "/ig_66/insights"]) == 1


async def test_timing_quiet_hours_and_the_off_switch(world: World) -> None:
    w = world
    await _agent(w, 504, quiet_hours_start="21:00", quiet_hours_end="10:00")
    await _agent(w, 505, notification_preferences={"weekly_digest": False})
    notifier = RecordingNotifier()
    sunday = MONDAY_0930 - timedelta(days=1)
    monday_0830 = MONDAY_0930 - timedelta(hours=1)
    assert await _run(w, notifier, sunday) == 0
    assert await _run(w, notifier, monday_0830) == 0
    assert await _run(w, notifier, MONDAY_0930) == 1  # the admin; 504 is in quiet hours
    assert [chat for chat, _, _ in notifier.photos] == [ADMIN]
    assert await _run(w, notifier, MONDAY_0930 + timedelta(hours=1)) == 1
    assert [chat for chat, _, _ in notifier.photos] == [ADMIN, 504]
    assert "no posts were published" in notifier.photos[-1][2]
    async with w.database.unit_of_work() as s:
        notes = (await s.execute(select(Notification))).scalars().all()
    statuses = sorted(n.delivery_status for n in notes)
    assert statuses == ["sent", "skipped"]  # 505 turned it off: written, not sent


def test_the_week_is_the_agents_own() -> None:
    week = digest_week(MONDAY_0930, NY)
    assert week is not None and week.label == "Nov 30 – Dec 6, 2026"
    assert week.start == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    assert digest_week(MONDAY_0930, "America/Los_Angeles") is None  # 06:30 there
