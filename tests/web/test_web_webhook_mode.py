"""TELEGRAM_MODE=webhook end to end: the real bot and web server (rltr_mktg/process.py)
behind the fake Bot API, which POSTs every update to the webhook as Telegram does."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.app import ALLOWED_UPDATES, build_application, start_application, stop_application
from bot.updates import WebhookTarget, start_receiving
from db.models import Agent, ContentPiece
from rltr_mktg.process import serve, web_server
from services.context import Database
from services.settings import ConfigError, Settings, load_settings
from tests.bot.conftest import ADMIN_ID, BotHarness
from tests.factories import make_account, make_agent, make_piece
from tests.fakes.telegram_api import FakeTelegram, FloodLimits
from web.server import WebServer
from web.webhook import SECRET_HEADER

HANDLED = ["message", "callback_query"]


@dataclass
class WebhookBot(BotHarness):
    """A bot in webhook mode: its web server, and how to stop the process."""

    server: WebServer
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/telegram/webhook"

    async def shut_down(self) -> None:
        self.stop.set()
        await self.task


def _settings(fake: FakeTelegram, tmp_path: Path, mode: str) -> Settings:
    return load_settings(
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        telegram_admin_ids=str(ADMIN_ID),
        data_dir=tmp_path,
        default_timezone="UTC",
        telegram_mode=mode,
        web_host="127.0.0.1",
        web_port=0,
        _env_file=None,
    )


async def _start_webhook_bot(fake: FakeTelegram, database: Database, tmp_path: Path) -> WebhookBot:
    settings = _settings(fake, tmp_path, "webhook")
    app = build_application(settings, database=database, with_jobs=False)
    server = web_server(settings, app)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, app, server, stop))
    await fake.wait_for(lambda: fake.webhooks.webhook, timeout=10, what="setWebhook")
    return WebhookBot(fake, app, database, settings, server, stop, task)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as server:
        server.webhooks.retry_base_s = 0.1
        yield server


@pytest.fixture
async def hooked(
    fake: FakeTelegram, database: Database, tmp_path: Path
) -> AsyncIterator[WebhookBot]:
    bot = await _start_webhook_bot(fake, database, tmp_path)
    try:
        yield bot
    finally:
        if not bot.task.done():
            await bot.shut_down()


async def test_start_sets_the_webhook_for_the_handled_updates_with_the_secret(
    hooked: WebhookBot,
) -> None:
    hook = hooked.fake.webhooks.webhook
    assert hook is not None
    assert hook.url == hooked.webhook_url
    assert hook.secret_token == hooked.settings.webhook_secret()
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", hook.secret_token or "")
    assert hook.allowed_updates == HANDLED
    [call] = hooked.fake.calls_to("setWebhook")
    assert call.params["drop_pending_updates"] is False
    info = await hooked.app.bot.get_webhook_info()
    assert info.url == hooked.webhook_url and info.pending_update_count == 0
    assert hooked.fake.calls_to("getUpdates") == []


async def test_invite_start_and_a_draft_tap_arrive_through_webhooks(hooked: WebhookBot) -> None:
    h, fake = hooked, hooked.fake
    admin = fake.user(ADMIN_ID, "Broker")
    await admin.send_command("/addagent", "chris@example.com Chris Doe")
    reply = await admin.next_message()
    m = re.search(r"\?start=([A-Za-z0-9_-]+)", reply.content)
    assert m, reply.content
    chris = fake.user(4242, "Chris")
    await chris.send_command("/start", m.group(1))
    assert "Welcome, Chris Doe" in (await chris.next_message()).content

    async with h.database.unit_of_work() as s:
        agent = (await s.execute(select(Agent))).scalar_one()
        await make_account(s, agent, "facebook", display_name="Chris Sells Ocala")
        piece = await make_piece(s, agent)
    assert (await h.deliver()).sent == 1
    draft = await chris.wait_message(lambda m: bool(m.buttons))
    qid = await chris.tap(draft.message_id, "Approve")
    assert (await fake.wait_answer(qid)).answered
    await chris.wait_for(lambda: draft.edits or None)
    assert "Approved" in draft.content
    async with h.database.unit_of_work() as s:
        row = await s.get(ContentPiece, piece.id)
    assert row is not None and row.status == "approved_for_posting"

    # Every update came by webhook with the secret, and was taken at the first try.
    deliveries = fake.webhooks.deliveries
    assert len(deliveries) == len(fake.updates) == 3
    assert {d.status for d in deliveries} == {200}
    assert {d.secret for d in deliveries} == {h.settings.webhook_secret()}
    assert fake.calls_to("getUpdates") == []


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_processed(
    hooked: WebhookBot,
) -> None:
    h, fake = hooked, hooked.fake
    update = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 31337, "type": "private", "first_name": "Eve"},
            "from": {"id": 31337, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    eve = fake.user(31337, "Eve")
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "not-the-secret"}):
            async with http.post(
                h.webhook_url,
                data=json.dumps(update),
                headers={"Content-Type": "application/json", **headers},
            ) as resp:
                assert resp.status == 403
    await asyncio.sleep(0.5)
    assert eve.messages == []
    assert [c for c in fake.calls if c.method == "sendMessage"] == []

    # The fake Telegram with a stale secret: refused (and retried) until the secret is right.
    hook = fake.webhooks.webhook
    assert hook is not None
    hook.secret_token = "stale-secret"
    await eve.send_command("/start")
    await fake.wait_for(
        lambda: len(fake.webhooks.deliveries) >= 2 or None, timeout=5, what="two refusals"
    )
    assert {d.status for d in fake.webhooks.deliveries} == {403}
    assert eve.messages == []
    info = await h.app.bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
    hook.secret_token = h.settings.webhook_secret()
    reply = await eve.next_message(timeout=5)
    assert "ask your administrator for an invite" in reply.content
    async with h.database.unit_of_work() as s:
        assert (await s.execute(select(func.count()).select_from(Agent))).scalar() == 0


async def test_going_back_to_polling_deletes_the_webhook_first(
    fake: FakeTelegram, database: Database, tmp_path: Path
) -> None:
    hooked = await _start_webhook_bot(fake, database, tmp_path)
    await hooked.shut_down()
    # Stopping keeps the webhook (other replicas may still serve it); Telegram queues.
    assert fake.webhooks.webhook is not None
    sam = fake.user(4711, "Sam")
    await sam.send_command("/start")
    await fake.wait_for(lambda: fake.webhooks.deliveries or None, timeout=5, what="a try")
    assert fake.webhooks.deliveries[0].status is None  # nobody listens any more

    settings = _settings(fake, tmp_path, "polling")
    app = build_application(settings, database=database, with_jobs=False)
    await start_application(app)
    try:
        reply = await sam.next_message(timeout=10)
        assert "ask your administrator for an invite" in reply.content
        assert fake.webhooks.webhook is None
        methods = [c.method for c in fake.calls]
        assert "deleteWebhook" in methods and "getUpdates" in methods
        assert methods.index("deleteWebhook") < methods.index("getUpdates")
        polls = fake.calls_to("getUpdates")
        assert all(c.params.get("allowed_updates") == HANDLED for c in polls)
    finally:
        await stop_application(app)


async def _metrics(h: WebhookBot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{h.server.port}/metrics") as resp,
    ):
        assert resp.status == 200
        text = await resp.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _delta(before: dict, after: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_a_tap_delivery_and_a_telegram_error_show_in_metrics(hooked: WebhookBot) -> None:
    h, fake = hooked, hooked.fake
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=5151)
        await make_piece(s, agent)
    user = fake.user(5151)
    before = await _metrics(h)
    assert (await h.deliver()).sent == 1
    draft = await user.wait_message(lambda m: bool(m.buttons))
    fake.fail_next("answerCallbackQuery", 400, "Bad Request: query is too old")
    await user.tap(draft.message_id, "Reject")
    await user.wait_for(lambda: draft.edits or None)
    await fake.wait_for(lambda: fake.calls_to("answerCallbackQuery") or None, what="the answer")
    after = await _metrics(h)
    assert _delta(before, after, "rltr_mktg_taps_total", action="reject", outcome="ok") == 1
    assert _delta(before, after, "rltr_mktg_tap_duration_seconds_count") == 1
    assert _delta(before, after, "rltr_mktg_drafts_delivered_total") == 1
    assert _delta(before, after, "rltr_mktg_telegram_errors_total", kind="bad_request") == 1


async def test_a_webhook_address_telegram_refuses_is_one_sentence(
    fake: FakeTelegram, database: Database, tmp_path: Path
) -> None:
    settings = _settings(fake, tmp_path, "polling")
    app = build_application(settings, database=database, with_jobs=False)
    await app.initialize()
    try:
        target = WebhookTarget(url="ftp://bot.example.com/telegram/webhook", secret="s")
        with pytest.raises(ConfigError) as caught:
            await start_receiving(app, ALLOWED_UPDATES, target)
        message = str(caught.value)
        assert message.startswith("Telegram refused the webhook address ftp://bot.example.com")
        assert "PUBLIC_URL" in message and "\n" not in message
        assert fake.webhooks.webhook is None
    finally:
        await app.shutdown()


async def test_two_replicas_starting_together_both_set_the_webhook(
    fake: FakeTelegram, database: Database, tmp_path: Path
) -> None:
    """Telegram answers a second setWebhook within a second with 429 retry_after=1; the
    bot's rate limiter waits and repeats it, so the second replica starts too."""
    first, second = await asyncio.gather(
        _start_webhook_bot(fake, database, tmp_path / "a"),
        _start_webhook_bot(fake, database, tmp_path / "b"),
    )
    try:
        await fake.wait_for(
            lambda: len([c for c in fake.calls_to("setWebhook") if c.status == 200]) == 2 or None,
            timeout=10,
            what="both replicas' setWebhook",
        )
        assert [c.status for c in fake.calls_to("setWebhook")] == [200, 429, 200]
        assert not first.task.done() and not second.task.done()
    finally:
        await first.shut_down()
        await second.shut_down()
