"""Connecting, listing, disconnecting and rotating accounts; token expiry warnings."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from db.base import utcnow
from db.models import Agent, Notification, PostSchedule, SocialMediaAccount
from services import social_accounts
from services.context import Database
from services.crypto import TokenCipher, generate_key
from services.errors import InvalidInputError, NotAllowedError
from services.publishing.graph_resources import GraphResources
from services.publishing.publish_rounds import publish_due
from services.token_rotation import rotate_all_tokens
from tests.factories import make_agent
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.conftest import (
    IG_ID,
    IG_TOKEN,
    PAGE_ID,
    PAGE_TOKEN,
    account_row,
    piece_of,
    rows_of,
    seed_post,
)


async def _agent(database: Database) -> Agent:
    async with database.unit_of_work() as s:
        return await make_agent(s)


async def test_connect_validates_then_stores_the_token_encrypted(
    database: Database, fake: FakeGraphApi, graph: GraphResources, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    agent = await _agent(database)
    done = await social_accounts.connect(
        database,
        graph.client,
        agent_id=agent.id,
        platform="facebook",
        account_id=f" {PAGE_ID} ",
        token=PAGE_TOKEN + "\n",
    )
    assert not done.reconnected
    assert done.account.display_name == "Sunny Homes" and done.account.is_active
    assert PAGE_TOKEN not in repr(done)
    row = await account_row(database, done.account.id)
    assert row.account_id == PAGE_ID and row.access_token_encrypted != PAGE_TOKEN
    assert database.cipher.decrypt(row.access_token_encrypted) == PAGE_TOKEN
    assert row.token_expires_at is None  # a Page token from a long-lived user token
    assert PAGE_TOKEN not in caplog.text

    ig = await social_accounts.connect(
        database, graph.client, agent_id=agent.id, platform="ig", account_id=IG_ID, token=IG_TOKEN
    )
    assert ig.account.display_name == "Sunny Homes (@sunnyhomes)"
    assert {c.token for c in fake.graph_calls()} == {PAGE_TOKEN, IG_TOKEN}
    # The token authenticates in the Authorization header, never as `access_token` in a URL.
    # The one URL that names it is the inspection itself: debug_token's `input_token` is a
    # query parameter of a GET by the Graph API's definition.
    in_url = [c for c in fake.calls if PAGE_TOKEN in c.url or IG_TOKEN in c.url]
    assert [c.path for c in in_url] == ["/debug_token", "/debug_token"]
    assert not [c for c in in_url if "access_token" in c.url], in_url
    async with database.unit_of_work() as s:
        listed = await social_accounts.list_accounts(s, agent.id)
    assert [(a.platform, a.display_name) for a in listed] == [
        ("facebook", "Sunny Homes"),
        ("instagram", "Sunny Homes (@sunnyhomes)"),
    ]


async def test_connect_keeps_the_earlier_expiry(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    soon = int((utcnow() + timedelta(days=50)).timestamp())
    fake.add_page(
        "200000000000001", "EAAGexpiringPageToken0123456789", "Lake Homes", expires_at=soon
    )
    agent = await _agent(database)
    given = utcnow() + timedelta(days=30)
    done = await social_accounts.connect(
        database,
        graph.client,
        agent_id=agent.id,
        platform="facebook",
        account_id="200000000000001",
        token="EAAGexpiringPageToken0123456789",
        expires_at=given,
    )
    assert done.account.token_expires_at == given
    other = await social_accounts.connect(
        database,
        graph.client,
        agent_id=agent.id,
        platform="facebook",
        account_id="200000000000001",
        token="EAAGexpiringPageToken0123456789",
    )
    assert other.reconnected
    assert other.account.token_expires_at == datetime.fromtimestamp(soon, tz=UTC)


@pytest.mark.parametrize(
    ("platform", "account_id", "token", "words", "graph_calls"),
    [
        ("facebook", PAGE_ID, "not a token", "does not look like an access token", 0),
        ("facebook", "sunny-homes", PAGE_TOKEN, "is a number", 0),
        ("instagram", PAGE_ID, PAGE_TOKEN, "is a Facebook Page, not an Instagram account", 1),
        ("facebook", PAGE_ID, "EAAGunknownToken0123456789abcdef", "rejected the saved token", 1),
        ("myspace", PAGE_ID, PAGE_TOKEN, "Unknown platform", 0),
    ],
)
async def test_bad_input_is_one_sentence_and_stores_nothing(
    database: Database,
    fake: FakeGraphApi,
    graph: GraphResources,
    platform,
    account_id,
    token,
    words,
    graph_calls,
) -> None:
    agent = await _agent(database)
    with pytest.raises(InvalidInputError) as info:
        await social_accounts.connect(
            database,
            graph.client,
            agent_id=agent.id,
            platform=platform,
            account_id=account_id,
            token=token,
        )
    assert words in info.value.message and token not in info.value.message
    assert len(fake.graph_calls()) == graph_calls
    async with database.unit_of_work() as s:
        assert (await s.execute(select(SocialMediaAccount))).first() is None


async def test_disconnect_cancels_pending_posts_and_reconnect_rotates_the_token(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    seeded = await seed_post(database, fake, at=now + timedelta(hours=2))
    fb_pk = seeded.account_pks["facebook"]
    # Facebook already went out; Instagram is still waiting.
    fb_only = [
        r for r in await rows_of(database, seeded.piece_id) if r.social_media_account_id == fb_pk
    ]
    async with database.unit_of_work() as s:
        await s.execute(
            update(PostSchedule).where(PostSchedule.id == fb_only[0].id).values(scheduled_at=now)
        )
    assert (await publish_due(database, graph.publisher, now=now)).succeeded == 1

    stranger = await _agent(database)
    async with database.unit_of_work() as s:
        with pytest.raises(NotAllowedError):
            await social_accounts.disconnect(
                s, agent_id=stranger.id, account_pk=seeded.account_pks["instagram"]
            )
    async with database.unit_of_work() as s:
        gone = await social_accounts.disconnect(
            s, agent_id=seeded.agent_id, account_pk=seeded.account_pks["instagram"]
        )
    assert gone.cancelled_posts == 1 and not gone.account.is_active
    statuses = {
        r.social_media_account_id: r.status for r in await rows_of(database, seeded.piece_id)
    }
    assert statuses == {fb_pk: "success", seeded.account_pks["instagram"]: "cancelled"}
    # Everything that was still meant to go out did: the draft is complete.
    assert (await piece_of(database, seeded.piece_id)).status == "posted_successfully"
    assert (await publish_due(database, graph.publisher, now=now + timedelta(hours=3))).claimed == 0

    new_token = "IGAArotatedTokenForSunnyHomes0123456789abcdef"
    fake.add_ig_user(IG_ID, new_token, "sunnyhomes", "Sunny Homes")
    back = await social_accounts.connect(
        database,
        graph.client,
        agent_id=seeded.agent_id,
        platform="instagram",
        account_id=IG_ID,
        token=new_token,
    )
    assert back.reconnected and back.account.id == seeded.account_pks["instagram"]
    row = await account_row(database, back.account.id)
    assert row.is_active and row.deactivated_reason is None
    assert database.cipher.decrypt(row.access_token_encrypted) == new_token


async def test_key_rotation_keeps_publishing_working(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    old_key, new_key = generate_key(), generate_key()
    original = database.cipher
    database.cipher = TokenCipher([old_key])
    try:
        now = utcnow()
        seeded = await seed_post(database, fake, platforms=["facebook"], at=now)
        async with database.unit_of_work() as s:
            assert await rotate_all_tokens(s, TokenCipher([new_key, old_key])) == 1
        row = await account_row(database, seeded.account_pks["facebook"])
        assert TokenCipher([new_key]).decrypt(row.access_token_encrypted) == PAGE_TOKEN
        database.cipher = TokenCipher([new_key])  # the old key is retired
        assert (await publish_due(database, graph.publisher, now=now)).succeeded == 1
    finally:
        database.cipher = original


async def test_expiry_warning_is_written_once_per_connection(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    now = utcnow()
    in_3_days = int((now + timedelta(days=3)).timestamp())
    in_30_days = int((now + timedelta(days=30)).timestamp())
    fake.add_page(
        "300000000000001", "EAAGsoonPageToken0123456789abcd", "Soon Homes", expires_at=in_3_days
    )
    fake.add_page(
        "300000000000002", "EAAGlaterPageToken0123456789abc", "Later Homes", expires_at=in_30_days
    )
    agent = await _agent(database)
    for page, token in (
        ("300000000000001", "EAAGsoonPageToken0123456789abcd"),
        ("300000000000002", "EAAGlaterPageToken0123456789abc"),
    ):
        await social_accounts.connect(
            database,
            graph.client,
            agent_id=agent.id,
            platform="facebook",
            account_id=page,
            token=token,
        )
    assert (
        await social_accounts.warn_expiring_tokens(database, default_timezone="UTC", now=now) == 1
    )
    assert (
        await social_accounts.warn_expiring_tokens(database, default_timezone="UTC", now=now) == 0
    )
    async with database.unit_of_work() as s:
        [note] = (await s.execute(select(Notification))).scalars().all()
    assert note.notification_type == "token_expiring"
    assert "Soon Homes" in note.message and "/connect" in note.message
    assert "EAAG" not in note.message
    # 25 days later the other one is within a week of its end.
    later = now + timedelta(days=25)
    assert (
        await social_accounts.warn_expiring_tokens(database, default_timezone="UTC", now=later) == 1
    )
    # Reconnecting resets the warning for that connection.
    await social_accounts.connect(
        database,
        graph.client,
        agent_id=agent.id,
        platform="facebook",
        account_id="300000000000001",
        token="EAAGsoonPageToken0123456789abcd",
        now=now,
    )
    assert (
        await social_accounts.warn_expiring_tokens(database, default_timezone="UTC", now=now) == 1
    )


async def test_disconnect_before_anything_posted_fails_the_draft_and_retry_reposts(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    from services import approval

    now = utcnow()
    seeded = await seed_post(database, fake, platforms=["instagram"], at=now + timedelta(hours=2))
    ig_pk = seeded.account_pks["instagram"]
    async with database.unit_of_work() as s:
        gone = await social_accounts.disconnect(s, agent_id=seeded.agent_id, account_pk=ig_pk)
    assert gone.cancelled_posts == 1
    piece = await piece_of(database, seeded.piece_id)
    assert piece.status == "posting_failed"  # not left saying "scheduled"
    async with database.unit_of_work() as s:
        notes = (
            (await s.execute(select(Notification).where(Notification.agent_id == seeded.agent_id)))
            .scalars()
            .all()
        )
        agent = await s.get(Agent, seeded.agent_id)
    assert [n.notification_type for n in notes] == ["post_failed"]
    assert "disconnected" in notes[0].message and notes[0].related_entity_id == piece.id

    await social_accounts.connect(
        database,
        graph.client,
        agent_id=seeded.agent_id,
        platform="instagram",
        account_id=IG_ID,
        token=IG_TOKEN,
    )
    assert agent is not None and agent.telegram_user_id is not None
    async with database.unit_of_work() as s:
        res = await approval.retry(
            await s.connection(),
            piece_id=piece.id,
            version=piece.version,
            telegram_user_id=agent.telegram_user_id,
            default_timezone="UTC",
            now=now,
        )
    assert res.ok and [p.platform for p in res.scheduled] == ["instagram"]
    assert (await publish_due(database, graph.publisher, now=now)).succeeded == 1
    assert (await piece_of(database, seeded.piece_id)).status == "posted_successfully"
