"""Webhooks on the fake Bot API, as specs/EXTERNAL_APIS.md section 6 describes Telegram's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Conflict

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_webhook import SECRET_HEADER

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Receiver:
    """A web server standing in for the bot's webhook: records what arrives."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = answer
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            {
                "update": json.loads(body),
                "content_type": request.headers.get("Content-Type"),
                "secret": request.headers.get(SECRET_HEADER),
            }
        )
        if self.answer is not None:
            return await self.answer(request)
        return web.Response()

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    try:
        yield r
    finally:
        await r.stop()


async def _raw(fake: FakeTelegram, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}{fake.token}/{method}", json=params) as resp,
    ):
        return resp.status, await resp.json()


def _texts(receiver: Receiver) -> list[str]:
    return [r["update"]["message"]["text"] for r in receiver.requests if "message" in r["update"]]


async def test_set_get_and_delete_answer_like_the_bot_api(
    fake: FakeTelegram, receiver: Receiver
) -> None:
    status, body = await _raw(
        fake, "setWebhook", url=receiver.url, secret_token="abc_DEF-1", allowed_updates=["message"]
    )
    assert (status, body) == (200, {"ok": True, "result": True, "description": "Webhook was set"})
    status, body = await _raw(fake, "setWebhook", url=receiver.url, secret_token="abc_DEF-1")
    assert status == 429 and body["parameters"] == {"retry_after": 1}
    assert body["description"] == "Too Many Requests: retry after 1"
    await asyncio.sleep(1.05)
    # allowed_updates omitted: the previous setting is kept, so nothing changed.
    _, body = await _raw(fake, "setWebhook", url=receiver.url, secret_token="abc_DEF-1")
    assert body["description"] == "Webhook is already set"
    _, info = await _raw(fake, "getWebhookInfo")
    assert info["result"] == {
        "url": receiver.url,
        "has_custom_certificate": False,
        "pending_update_count": 0,
        "max_connections": 40,
        "ip_address": "127.0.0.1",
        "allowed_updates": ["message"],
    }
    _, body = await _raw(fake, "deleteWebhook")
    assert body["description"] == "Webhook was deleted"
    _, body = await _raw(fake, "deleteWebhook")
    assert body["description"] == "Webhook is already deleted"
    _, info = await _raw(fake, "getWebhookInfo")
    assert info["result"] == {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


async def test_bad_secrets_and_urls_are_refused(fake: FakeTelegram) -> None:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        with pytest.raises(BadRequest, match=r"(?i)secret token is too long"):
            await bot.set_webhook("http://127.0.0.1:1/x", secret_token="a" * 257)
        with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
            await bot.set_webhook("http://127.0.0.1:1/x", secret_token="no spaces")
        with pytest.raises(BadRequest, match=r"(?i)invalid webhook URL specified"):
            await bot.set_webhook("not a url")
    assert fake.webhooks.webhook is None


async def test_get_updates_is_a_conflict_while_a_webhook_is_set(
    fake: FakeTelegram, receiver: Receiver
) -> None:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        waiting = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        assert await bot.set_webhook(receiver.url)
        with pytest.raises(Conflict, match="terminated by setWebhook request"):
            await waiting
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()
        await fake.user(1).send_text("kept for later")
        await fake.wait_for(lambda: receiver.requests or None)
        assert await bot.delete_webhook()
        await fake.user(1).send_text("after the webhook")
        updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["after the webhook"]


async def test_updates_are_posted_as_json_with_the_secret(
    fake: FakeTelegram, receiver: Receiver
) -> None:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        await bot.set_webhook(receiver.url, secret_token="s3cr3t")
    alice = fake.user(10, "Alice")
    await alice.send_text("hello")
    await fake.wait_for(lambda: not fake.pending_updates() or None)
    [request] = receiver.requests
    assert request["content_type"] == "application/json"
    assert request["secret"] == "s3cr3t"
    assert request["update"]["message"]["text"] == "hello"
    assert request["update"]["update_id"] == 1


async def test_one_chat_in_order_other_chats_alongside(fake: FakeTelegram) -> None:
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.Response:
        update = json.loads(await request.read())
        if update["message"]["text"] == "a1":
            await release.wait()
        return web.Response()

    receiver = await Receiver(answer).start()
    try:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.set_webhook(receiver.url)
        await fake.user(1).send_text("a1")
        await fake.user(1).send_text("a2")
        await fake.user(2).send_text("b1")
        await fake.wait_for(lambda: "b1" in _texts(receiver) or None)
        await asyncio.sleep(0.2)
        assert _texts(receiver) == ["a1", "b1"]  # a2 waits for a1's answer
        release.set()
        await fake.wait_for(lambda: "a2" in _texts(receiver) or None)
        assert _texts(receiver) == ["a1", "b1", "a2"]
    finally:
        release.set()
        await receiver.stop()


async def test_a_failed_delivery_is_retried_and_the_error_stays_in_the_info(
    fake: FakeTelegram,
) -> None:
    fake.webhooks.retry_base_s = 0.05
    failures = [500, 503]

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=failures.pop(0) if failures else 200)

    receiver = await Receiver(answer).start()
    try:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.set_webhook(receiver.url)
            await fake.user(1).send_text("once")
            await fake.user(1).send_text("twice")
            await fake.wait_for(lambda: not fake.pending_updates() or None)
            info = await bot.get_webhook_info()
        # The failing update blocked the next one of its chat until it went through.
        assert _texts(receiver) == ["once", "once", "once", "twice"]
        assert [d.status for d in fake.webhooks.deliveries] == [500, 503, 200, 200]
        assert info.last_error_message == "Wrong response from the webhook: 503 Service Unavailable"
        assert info.last_error_date is not None
    finally:
        await receiver.stop()


async def test_an_expired_update_is_dropped(fake: FakeTelegram) -> None:
    fake.webhooks.retry_base_s = 0.05
    fake.webhooks.message_expiry_s = 0.3

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=500)

    receiver = await Receiver(answer).start()
    try:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.set_webhook(receiver.url)
        await fake.user(1).send_text("too late")
        await fake.wait_for(lambda: not fake.pending_updates() or None, timeout=5)
        assert 2 <= len(receiver.requests) <= 6
        assert all(d.status == 500 for d in fake.webhooks.deliveries)
    finally:
        await receiver.stop()


async def test_only_allowed_update_types_are_delivered(
    fake: FakeTelegram, receiver: Receiver
) -> None:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        await bot.set_webhook(receiver.url, allowed_updates=["callback_query"])
    user = fake.user(1)
    await user.send_text("not wanted")
    await fake.wait_for(lambda: not fake.pending_updates() or None)
    assert receiver.requests == []
