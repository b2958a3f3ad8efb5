"""The publish job end to end: database rows → real aiohttp → fake Graph API → outcomes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import update

from db.base import utcnow
from db.models import Agent, ContentPiece, PostSchedule, SocialMediaAccount
from db.repositories import app_state, publish_claims
from services import approval
from services.context import Database
from services.crypto import TokenCipher, generate_key
from services.notifying import delivery
from services.notifying.notifier import DraftView, NotificationView
from services.publishing import Platform, PublishResult
from services.publishing.graph_resources import GraphResources
from services.publishing.orphan_settling import recover_stale
from services.publishing.publish_rounds import publish_due
from services.publishing.results import BeforeVisibleCall
from services.publishing.retry_policy import MAX_ATTEMPTS
from tests.factories import make_account, make_agent, make_piece
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.conftest import (
    IG_ID,
    IG_TOKEN,
    PAGE_ID,
    PAGE_TOKEN,
    account_row,
    connect_both,
    notes_of,
    piece_of,
    rows_of,
    seed_post,
)


class RecordingNotifier:
    def __init__(self) -> None:
        self.notes: list[NotificationView] = []

    async def send_draft(self, draft: DraftView) -> int:
        return 1

    async def mark_superseded(self, chat_id: int, message_id: int, new_version: int) -> None:
        return None

    async def send_notification(self, note: NotificationView) -> None:
        self.notes.append(note)


async def test_approved_post_publishes_to_both_platforms_with_the_right_calls(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    urls = [fake.add_jpeg("front.jpg", 1080, 1080), fake.add_jpeg("kitchen.jpg", 1080, 1350)]
    now = utcnow()
    async with database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=31337)
        await connect_both(database, s, agent)
        piece = await make_piece(s, agent)
        await s.execute(
            update(ContentPiece)
            .where(ContentPiece.id == piece.id)
            .values(associated_image_urls=urls)
        )
        tap = await approval.approve(
            await s.connection(),
            piece_id=piece.id,
            version=1,
            telegram_user_id=31337,
            default_timezone="UTC",
            now=now,
        )
    assert tap.ok and len(tap.scheduled) == 2
    slot = max(p.at for p in tap.scheduled)

    early = await publish_due(database, graph.publisher, now=now)
    assert early.claimed == 0 and fake.graph_calls() == []

    result = await publish_due(database, graph.publisher, now=slot + timedelta(seconds=1))
    assert (result.claimed, result.succeeded, result.failed) == (2, 2, 0)

    fb = [f"{c.method} {c.path}" for c in fake.graph_calls(path=f"/{PAGE_ID}*")]
    fb_post = fake.visible_posts(PAGE_ID)[0].id
    assert fb == [
        f"POST /{PAGE_ID}/photos",
        f"POST /{PAGE_ID}/photos",
        f"POST /{PAGE_ID}/feed",
        f"GET /{fb_post}",  # the permalink
    ]
    feed = fake.graph_calls("POST", f"/{PAGE_ID}/feed")[0]
    assert feed.params["message"].startswith("New home in Ocala.")
    assert all(
        c.params["published"] == "false" for c in fake.graph_calls(path=f"/{PAGE_ID}/photos")
    )
    ig = [f"{c.method} {c.path}" for c in fake.graph_calls(path=f"/{IG_ID}/*")]
    assert ig == [
        f"GET /{IG_ID}/content_publishing_limit",
        f"POST /{IG_ID}/media",
        f"POST /{IG_ID}/media",
        f"POST /{IG_ID}/media",
        f"POST /{IG_ID}/media_publish",
    ]
    carousel = [c for c in fake.graph_calls("POST", f"/{IG_ID}/media") if "children" in c.params]
    assert carousel[0].params["media_type"] == "CAROUSEL"
    assert "#Ocala" in carousel[0].params["caption"]

    # The tokens travel in the Authorization header, never in a URL a server or proxy logs.
    assert {c.token for c in fake.graph_calls()} == {PAGE_TOKEN, IG_TOKEN}
    assert not [c.url for c in fake.calls if PAGE_TOKEN in c.url or IG_TOKEN in c.url]

    posts = {p.platform: p for p in fake.visible_posts()}
    assert set(posts) == {"facebook", "instagram"} and fake.duplicate_count() == 0
    assert posts["facebook"].image_urls == urls and posts["instagram"].image_urls == urls
    rows = await rows_of(database, piece.id)
    assert {r.status for r in rows} == {"success"}
    assert {r.platform_post_id for r in rows} == {p.id for p in posts.values()}
    assert all(r.permalink and r.posted_at and r.attempts == 1 for r in rows)
    assert (await piece_of(database, piece.id)).status == "posted_successfully"
    notes = [n for n in await notes_of(database, agent.id) if n.notification_type == "post_success"]
    assert len(notes) == 1 and notes[0].related_entity_id == piece.id
    for p in posts.values():
        assert p.permalink in notes[0].message

    again = await publish_due(database, graph.publisher, now=slot + timedelta(minutes=5))
    assert again.claimed == 0 and len(fake.visible_posts()) == 2


async def test_retryable_failure_goes_back_with_back_off_then_posts_once(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, platforms=["facebook"], at=now)
    # The client retries once by itself; both attempts fail, so the row is re-queued.
    fake.fail_next(f"/{PAGE_ID}/photos", times=2, code=2, message="Service temporarily unavailable")
    first = await publish_due(database, graph.publisher, now=now)
    assert (first.claimed, first.retried, first.succeeded) == (1, 1, 0)
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "pending" and row.attempts == 1
    assert row.scheduled_at >= now + timedelta(seconds=59)
    assert "temporary problem" in (row.error_message or "")
    assert row.claimed_by is None
    assert (await piece_of(database, seeded.piece_id)).status == "approved_for_posting"

    too_soon = await publish_due(database, graph.publisher, now=now + timedelta(seconds=30))
    assert too_soon.claimed == 0
    later = await publish_due(database, graph.publisher, now=row.scheduled_at)
    assert later.succeeded == 1
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "success" and row.attempts == 2 and row.error_message is None
    assert len(fake.visible_posts(PAGE_ID)) == 1


async def test_retries_are_bounded_then_the_post_fails_with_a_notification(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, platforms=["facebook"], at=now)
    fake.fail_next(f"/{PAGE_ID}/photos", times=1000, code=4, message="Application request limit")
    delays = []
    at = now
    for _ in range(MAX_ATTEMPTS):
        await publish_due(database, graph.publisher, now=at)
        [row] = await rows_of(database, seeded.piece_id)
        if row.status != "pending":
            break
        delays.append(row.scheduled_at - at)
        at = row.scheduled_at
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    # Throttling waits at least the Graph's hint (60 s without a usage header), then doubles.
    assert delays == sorted(delays) and len(delays) == MAX_ATTEMPTS - 1
    assert "limiting how fast" in (row.error_message or "")
    assert (await piece_of(database, seeded.piece_id)).status == "posting_failed"
    [note] = await notes_of(database, seeded.agent_id)
    assert note.notification_type == "post_failed" and note.related_entity_id == seeded.piece_id
    assert "was not published on Facebook (Sunny Homes)" in note.message
    assert fake.visible_posts() == []


async def test_permanent_failure_fails_at_once_and_offers_retry(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, at=now)
    fake.fail_next(f"/{IG_ID}/media_publish", code=4, subcode=2207051, message="spam")
    result = await publish_due(database, graph.publisher, now=now)
    assert (result.succeeded, result.failed, result.retried) == (1, 1, 0)
    rows = {r.social_media_account_id: r for r in await rows_of(database, seeded.piece_id)}
    ig_row = rows[seeded.account_pks["instagram"]]
    assert ig_row.status == "failed" and ig_row.attempts == 1
    assert "suspected spam" in (ig_row.error_message or "")
    assert rows[seeded.account_pks["facebook"]].status == "success"
    assert (await piece_of(database, seeded.piece_id)).status == "posting_failed"
    types = sorted(n.notification_type for n in await notes_of(database, seeded.agent_id))
    # The failure, then where it is live nonetheless.
    assert types == ["post_failed", "post_success"]

    notifier = RecordingNotifier()
    await delivery.deliver_notifications(database, notifier, default_timezone="UTC")
    failed = [n for n in notifier.notes if n.notification_type == "post_failed"]
    assert failed[0].related_entity_id == seeded.piece_id and failed[0].piece_version == 1

    # Retry re-posts only where it failed.
    async with database.unit_of_work() as s:
        agent = await s.get(Agent, seeded.agent_id)
        assert agent is not None and agent.telegram_user_id is not None
        tap = await approval.retry(
            await s.connection(),
            piece_id=seeded.piece_id,
            version=1,
            telegram_user_id=agent.telegram_user_id,
            default_timezone="UTC",
            now=now,
        )
    assert tap.ok and [p.platform for p in tap.scheduled] == ["instagram"]
    again = await publish_due(database, graph.publisher, now=now + timedelta(seconds=1))
    assert again.succeeded == 1
    assert len(fake.visible_posts(PAGE_ID)) == 1 and len(fake.visible_posts(IG_ID)) == 1
    assert (await piece_of(database, seeded.piece_id)).status == "posted_successfully"


async def test_token_error_190_deactivates_the_account_and_asks_to_reconnect(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    first = await seed_post(database, fake, platforms=["facebook"], at=now)
    second = await seed_post(
        database,
        fake,
        platforms=["facebook"],
        at=now + timedelta(hours=1),
        agent_id=first.agent_id,
        accounts=first.account_pks,
    )
    fake.revoke_token(PAGE_TOKEN, subcode=460)
    result = await publish_due(database, graph.publisher, now=now)
    assert (result.failed, result.deactivated) == (1, 1)
    account = await account_row(database, first.account_pks["facebook"])
    assert account.is_active is False
    assert "password was changed" in (account.deactivated_reason or "")
    [note] = await notes_of(database, first.agent_id)
    assert "/connect" in note.message and "paused until you reconnect" in note.message
    assert PAGE_TOKEN not in note.message

    calls = len(fake.graph_calls())
    later = await publish_due(database, graph.publisher, now=now + timedelta(hours=1))
    assert later.failed == 1 and len(fake.graph_calls()) == calls  # no call with a dead token
    [row] = await rows_of(database, second.piece_id)
    assert row.status == "failed" and "is disconnected" in (row.error_message or "")


@pytest.mark.parametrize(
    ("make_images", "words"),
    [
        (lambda f: [f.add_file("listing.html", b"<html>hi</html>", "text/html")], "web page"),
        (lambda f: [f.add_jpeg("big.jpg", 900, 900, pad_to_bytes=12 << 20)], "12.0 MB"),
        (lambda f: [f.add_jpeg("wide.jpg", 2000, 500)], "too wide"),
    ],
)
async def test_preflight_failure_makes_no_graph_call(
    database: Database, fake: FakeGraphApi, graph: GraphResources, make_images, words
) -> None:
    now = utcnow()
    seeded = await seed_post(
        database, fake, platforms=["instagram"], image_urls=make_images(fake), at=now
    )
    result = await publish_due(database, graph.publisher, now=now)
    assert result.failed == 1
    assert fake.graph_calls() == []
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "failed" and words in (row.error_message or "")
    assert (await piece_of(database, seeded.piece_id)).status == "posting_failed"


async def test_caption_too_long_fails_before_any_call(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, platforms=["instagram"], at=now, text="x" * 3000)
    await publish_due(database, graph.publisher, now=now)
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "failed" and "2,200" in (row.error_message or "")
    assert fake.calls == []


async def test_pause_stops_publishing_at_once_and_resume_continues(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    first = await seed_post(database, fake, platforms=["facebook"], at=now)
    for _ in range(2):
        await seed_post(
            database,
            fake,
            platforms=["facebook"],
            at=now,
            agent_id=first.agent_id,
            accounts=first.account_pks,
        )
    async with database.unit_of_work() as s:
        await app_state.set_value(s, app_state.PUBLISHING_PAUSED, True)
    paused = await publish_due(database, graph.publisher, now=now)
    assert paused.paused and paused.claimed == 0 and fake.calls == []

    async with database.unit_of_work() as s:
        await app_state.set_value(s, app_state.PUBLISHING_PAUSED, False)

    class PausingPublisher:
        """Publishes, then an admin taps /pause while the round is running."""

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
            result = await graph.publisher.publish(
                platform, account_id, token, text, urls, before_visible_call=before_visible_call
            )
            async with database.unit_of_work() as s:
                await app_state.set_value(s, app_state.PUBLISHING_PAUSED, True)
            return result

    midway = await publish_due(database, PausingPublisher(), now=now)
    assert midway.succeeded == 1 and midway.paused
    assert len(fake.visible_posts()) == 1

    async with database.unit_of_work() as s:
        await app_state.set_value(s, app_state.PUBLISHING_PAUSED, False)
    resumed = await publish_due(database, graph.publisher, now=now)
    assert resumed.succeeded == 2 and len(fake.visible_posts()) == 3
    assert fake.duplicate_count() == 0


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs."""


async def test_crash_after_the_platform_call_is_found_on_the_page_not_posted_twice(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, platforms=["facebook"], at=now)

    class CrashingPublisher:
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
            await graph.publisher.publish(
                platform, account_id, token, text, urls, before_visible_call=before_visible_call
            )
            raise Crash  # the process dies before the answer is recorded

    with pytest.raises(Crash):
        await publish_due(database, CrashingPublisher(), now=now)
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "sent" and row.claimed_by and row.platform_call_at is not None
    assert len(fake.visible_posts(PAGE_ID)) == 1

    # Its holder (this process) still holds a live lease: nobody else touches the post.
    early = await publish_due(database, graph.publisher, now=now, reconciler=graph.reconciler)
    assert early.orphans == 0 and early.claimed == 0
    # Once the lease lapsed, the next round asks the Page and finds the post.
    later = now + publish_claims.DEFAULT_LEASE + timedelta(seconds=1)
    settled = await publish_due(database, graph.publisher, now=later, reconciler=graph.reconciler)
    assert settled.orphans == 1 and settled.reconciled_published == 1
    [row] = await rows_of(database, seeded.piece_id)
    [post] = fake.visible_posts(PAGE_ID)
    assert row.status == "success" and row.permalink == post.permalink
    assert row.platform_post_id == post.id
    assert (await piece_of(database, seeded.piece_id)).status == "posted_successfully"
    [note] = await notes_of(database, seeded.agent_id)
    assert note.notification_type == "post_success" and post.permalink in note.message
    assert fake.duplicate_count() == 0
    assert await recover_stale(database, now=now + timedelta(hours=1)) == 0


async def test_crash_right_after_the_claim_is_published_once_after_the_lease(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, at=now)
    async with database.unit_of_work() as s:
        claimed = await publish_claims.claim(s, now=now, worker_id="other-host:1:dead00", limit=10)
    assert len(claimed) == 2  # committed as `sent`; the process dies here
    # Another host's holder: only its lease lapsing tells it is gone.
    kept = await publish_due(database, graph.publisher, now=now, reconciler=graph.reconciler)
    assert kept.claimed == 0 and kept.orphans == 0 and fake.calls == []
    later = now + publish_claims.DEFAULT_LEASE + timedelta(seconds=1)
    round_ = await publish_due(database, graph.publisher, now=later, reconciler=graph.reconciler)
    # Nothing had been sent to the platform, so both went out now, once each.
    assert round_.orphans == 2 and round_.reconciled_retried == 2 and round_.succeeded == 2
    assert {r.status for r in await rows_of(database, seeded.piece_id)} == {"success"}
    assert len(fake.visible_posts()) == 2 and fake.duplicate_count() == 0
    notes = await notes_of(database, seeded.agent_id)
    assert [n.notification_type for n in notes] == ["post_success"]


async def test_two_publishers_at_once_claim_disjoint_rows(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    fake.latency_s = 0.01
    now = utcnow()
    pieces = []
    agents: list[tuple[uuid.UUID, dict[str, uuid.UUID]]] = []
    for n in range(6):
        page_id, ig_id = f"90000000000{n:02d}", f"178414000000{n:02d}"
        page_tok, ig_tok = f"EAAGpage{n:02d}" + "x" * 30, f"IGAAuser{n:02d}" + "y" * 30
        fake.add_page(page_id, page_tok, f"Page {n}")
        fake.add_ig_user(ig_id, ig_tok, f"user{n}")
        async with database.unit_of_work() as s:
            agent = await make_agent(s)
            fb = await make_account(
                s,
                agent,
                "facebook",
                account_id=page_id,
                access_token_encrypted=database.cipher.encrypt(page_tok),
            )
            ig = await make_account(
                s,
                agent,
                "instagram",
                account_id=ig_id,
                access_token_encrypted=database.cipher.encrypt(ig_tok),
            )
        agents.append((agent.id, {"facebook": fb.id, "instagram": ig.id}))
    for i in range(30):
        agent_id, accounts = agents[i % len(agents)]
        pieces.append(
            await seed_post(
                database, fake, at=now, agent_id=agent_id, accounts=accounts, text=f"Home {i}"
            )
        )
    a, b = await asyncio.gather(
        publish_due(database, graph.publisher, now=now, concurrency=4, worker_id="worker-a"),
        publish_due(database, graph.publisher, now=now, concurrency=4, worker_id="worker-b"),
    )
    assert a.claimed + b.claimed == 60 and a.errors == b.errors == 0
    assert a.claimed > 0 and b.claimed > 0
    assert len(fake.visible_posts()) == 60 and fake.duplicate_count() == 0
    for p in pieces:
        rows = await rows_of(database, p.piece_id)
        assert {r.status for r in rows} == {"success"} and {r.attempts for r in rows} == {1}


async def test_a_token_the_key_cannot_open_fails_with_that_sentence(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, platforms=["facebook"], at=now)
    other = TokenCipher([generate_key()])
    async with database.unit_of_work() as s:
        await s.execute(
            update(SocialMediaAccount)
            .where(SocialMediaAccount.id == seeded.account_pks["facebook"])
            .values(access_token_encrypted=other.encrypt(PAGE_TOKEN))
        )
    await publish_due(database, graph.publisher, now=now)
    [row] = await rows_of(database, seeded.piece_id)
    assert row.status == "failed" and "Cannot decrypt" in (row.error_message or "")
    assert fake.calls == []


async def test_rows_of_a_cancelled_post_are_not_claimed(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, at=now)
    async with database.unit_of_work() as s:
        await s.execute(
            update(PostSchedule)
            .where(PostSchedule.content_piece_id == seeded.piece_id)
            .values(status="cancelled")
        )
    assert (await publish_due(database, graph.publisher, now=now)).claimed == 0
    assert fake.calls == []


async def test_a_claim_takes_at_most_its_limit(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    first = await seed_post(database, fake, platforms=["facebook"], at=now)
    for _ in range(4):
        await seed_post(
            database,
            fake,
            platforms=["facebook"],
            at=now,
            agent_id=first.agent_id,
            accounts=first.account_pks,
        )
    async with database.unit_of_work() as s:
        one = await publish_claims.claim(
            s, now=now, worker_id="w", limit=1, account_pk=first.account_pks["facebook"]
        )
        two = await publish_claims.claim(s, now=now, worker_id="w", limit=2)
    assert len(one) == 1 and len(two) == 2 and not set(one) & set(two)


async def test_batch_bounds_a_round_and_the_next_round_continues(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    for _ in range(3):
        await seed_post(database, fake, at=now)  # 3 agents, 6 accounts, 6 posts
    first = await publish_due(database, graph.publisher, now=now, batch=4, concurrency=2)
    assert first.claimed == 4 and len(fake.visible_posts()) == 4
    rest = await publish_due(database, graph.publisher, now=now, batch=4, concurrency=2)
    assert rest.claimed == 2 and len(fake.visible_posts()) == 6
