"""/connect and /accounts through the real PTB Application, fake Bot API and fake Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from db.models import SocialMediaAccount
from services.publishing.graph_resources import GraphResources
from tests.bot.conftest import BotHarness, harness  # noqa: F401 (the fixture)
from tests.factories import make_agent
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.conftest import IG_ID, PAGE_ID, PAGE_TOKEN


@pytest.fixture
async def bot(harness: BotHarness, fake: FakeGraphApi) -> AsyncIterator[BotHarness]:  # noqa: F811
    # What bot/jobs/publish_job.py would create from GRAPH_API_BASE_URL; closed at shutdown.
    harness.runtime.graph = GraphResources.open(
        fake.base_url,
        listings_base_url=fake.root_url,  # the fake serves the photos, as the builder's site does
        timeout_s=3,
        max_retries=0,
        poll_interval_s=0.01,
    )
    yield harness


async def _accounts(h: BotHarness) -> list[SocialMediaAccount]:
    async with h.database.unit_of_work() as s:
        return list((await s.execute(select(SocialMediaAccount))).scalars().all())


async def test_connect_deletes_the_token_message_and_stores_the_account(
    bot: BotHarness, fake: FakeGraphApi
) -> None:
    h = bot
    async with h.database.unit_of_work() as s:
        await make_agent(s, telegram_user_id=7001)
    user = h.fake.user(7001, "Chris")
    await user.send_command("/connect")
    menu = await user.next_message()
    assert "Which account" in menu.content
    assert menu.button_labels == ["Facebook Page", "Instagram"]

    await h.fake.wait_answer(await user.tap(menu.message_id, "Facebook"))
    prompt = await user.next_message()
    assert prompt.force_reply and prompt.content.startswith("🔗 Connect a Facebook Page")

    secret = await user.send_text(f"{PAGE_ID} {PAGE_TOKEN}", reply_to=prompt.message_id)
    done = await user.next_message()
    assert "✅ Connected Facebook Sunny Homes" in done.content
    assert "does not expire" in done.content
    assert user.message(secret.message_id).deleted
    assert all(PAGE_TOKEN not in m.content for m in user.messages)

    [row] = await _accounts(h)
    assert (row.platform, row.account_id, row.display_name) == ("facebook", PAGE_ID, "Sunny Homes")
    assert h.database.cipher.decrypt(row.access_token_encrypted) == PAGE_TOKEN
    # The feedback handler never saw it (it would have answered with a /help nudge).
    assert not any("feedback" in m.content for m in user.messages)


async def test_a_bad_token_is_deleted_too_and_the_prompt_comes_back(
    bot: BotHarness, fake: FakeGraphApi
) -> None:
    h = bot
    async with h.database.unit_of_work() as s:
        await make_agent(s, telegram_user_id=7002)
    user = h.fake.user(7002)
    await user.send_command("/connect")
    menu = await user.next_message()
    await h.fake.wait_answer(await user.tap(menu.message_id, "Instagram"))
    prompt = await user.next_message()
    assert prompt.content.startswith("🔗 Connect an Instagram account")

    # A Page id given as Instagram: Graph says it is a Page; nothing is stored.
    wrong = await user.send_text(f"{PAGE_ID} {PAGE_TOKEN}", reply_to=prompt.message_id)
    error = await user.next_message()
    assert "is a Facebook Page, not an Instagram account" in error.content
    assert user.message(wrong.message_id).deleted
    again = await user.next_message()
    assert again.force_reply and again.content.startswith("🔗 Connect an Instagram account")

    calls = len(fake.graph_calls())
    junk = await user.send_text(f"{IG_ID} not-a-token", reply_to=again.message_id)
    error = await user.next_message()
    assert "does not look like an access token" in error.content
    assert user.message(junk.message_id).deleted and len(fake.graph_calls()) == calls
    assert (await user.next_message()).force_reply

    # Replying to an older prompt works too: the prompt, not memory, says what it is for.
    one = await user.send_text("just-one-word", reply_to=prompt.message_id)
    error = await user.next_message()
    assert "exactly two things" in error.content and user.message(one.message_id).deleted
    assert await _accounts(h) == []


async def test_accounts_lists_and_disconnects_after_confirmation(
    bot: BotHarness, fake: FakeGraphApi
) -> None:
    h = bot
    async with h.database.unit_of_work() as s:
        await make_agent(s, telegram_user_id=7003)
    user = h.fake.user(7003)
    await user.send_command("/accounts")
    empty = await user.next_message()
    assert "No accounts are connected yet" in empty.content

    await user.send_command("/connect")
    menu = await user.next_message()
    await h.fake.wait_answer(await user.tap(menu.message_id, "Facebook"))
    prompt = await user.next_message()
    await user.send_text(f"{PAGE_ID} {PAGE_TOKEN}", reply_to=prompt.message_id)
    await user.next_message()

    await user.send_command("/accounts")
    listing = await user.next_message()
    assert "Sunny Homes" in listing.content and "Active" in listing.content
    await h.fake.wait_answer(await user.tap(listing.message_id, "Disconnect"))
    await user.wait_for(lambda: "Yes, disconnect" in " ".join(listing.button_labels) or None)
    answer = await h.fake.wait_answer(await user.tap(listing.message_id, "Yes, disconnect"))
    assert "Disconnected Facebook Sunny Homes" in (answer.text or "")
    await user.wait_for(lambda: "Off" in listing.content or None)
    assert listing.buttons == []
    [row] = await _accounts(h)
    assert row.is_active is False and row.deactivated_reason


async def test_strangers_cannot_connect(bot: BotHarness) -> None:
    user = bot.fake.user(7999)
    await user.send_command("/connect")
    reply = await user.next_message()
    assert "Only agents can connect accounts" in reply.content
