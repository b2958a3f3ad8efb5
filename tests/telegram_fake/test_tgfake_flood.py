"""The flood limiter answers 429 like Telegram, and PTB's AIORateLimiter stays under it."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from tests.fakes.telegram_api import FakeTelegram, FloodLimits

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def _send_all(bot: Bot, chat_ids: list[int]) -> list[BaseException | None]:
    async def one(chat_id: int) -> BaseException | None:
        try:
            await bot.send_message(chat_id, f"New home for {chat_id}")
        except RetryAfter as exc:
            return exc
        return None

    return await asyncio.gather(*(one(c) for c in chat_ids))


async def test_one_chat_gets_a_short_burst_then_429(limited_fake: FakeTelegram) -> None:
    fake = limited_fake
    uma = fake.user(1201, "Uma")
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        for i in range(int(fake.flood.per_chat_burst)):
            await bot.send_message(uma.id, f"message {i}")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(uma.id, "one too many")
        assert caught.value.retry_after >= 1
        # Until retry_after has passed, the chat stays blocked (Telegram's flood wait).
        with pytest.raises(RetryAfter):
            await bot.send_message(uma.id, "still too soon")
        # Another chat is not affected.
        await bot.send_message(fake.user(1202, "Vic").id, "hello")
    assert len(uma.messages) == int(fake.flood.per_chat_burst)
    assert [r.scope for r in fake.throttled_log] == ["chat", "chat"]
    body = fake.calls_to("sendMessage")[-2]
    assert body.status == 429 and body.description.startswith("Too Many Requests: retry after ")


async def test_edits_count_per_chat_but_not_globally(limited_fake: FakeTelegram) -> None:
    fake = limited_fake
    wes = fake.user(1203, "Wes")
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        sent = await bot.send_message(wes.id, "v0")
        with pytest.raises(RetryAfter):
            for i in range(1, 20):
                await bot.edit_message_text(f"v{i}", chat_id=wes.id, message_id=sent.message_id)
    assert len(wes.message(sent.message_id).edits) == int(fake.flood.per_chat_burst) - 1
    assert fake.send_stats()["requests"] == 1  # only the send is a counted bulk message


async def test_bulk_burst_without_rate_limiting_gets_429s() -> None:
    async with FakeTelegram() as fake:
        users = [fake.user(20_000 + i, f"A{i}") for i in range(60)]
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            started = time.monotonic()
            results = await _send_all(bot, [u.id for u in users])
            elapsed = time.monotonic() - started
        refused = [r for r in results if r is not None]
        assert refused, "60 sends at once must exceed a 30/s limit"
        assert all(r.retry_after >= 1 for r in refused)
        assert {r.scope for r in fake.throttled_log} == {"global"}
        accepted = fake.send_stats()["requests"]
        assert accepted == 60 - len(refused)
        limits = fake.flood
        allowed = limits.global_burst + limits.global_rate * (elapsed + limits.grace)
        assert accepted <= allowed


async def test_aio_rate_limiter_keeps_below_telegram_limit() -> None:
    count = 75
    async with FakeTelegram() as fake:  # Telegram's defaults: 30 msg/s across chats
        users = [fake.user(30_000 + i, f"B{i}") for i in range(count)]
        app = fake.application_builder().rate_limiter(AIORateLimiter()).build()
        async with app:
            started = time.monotonic()
            results = await _send_all(app.bot, [u.id for u in users])
            elapsed = time.monotonic() - started
        stats = fake.send_stats()
    assert results == [None] * count
    assert fake.throttled == 0
    assert stats["requests"] == count
    # 30 at once, then 30 per second: the remaining 45 need about 1.5 s.
    assert elapsed >= 1.3
    assert stats["max_requests_in_1s"] <= 61


async def test_disabled_limiter_allows_anything() -> None:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as fake:
        xena = fake.user(1204, "Xena")
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            await asyncio.gather(*(bot.send_message(xena.id, str(i)) for i in range(40)))
        assert len(xena.messages) == 40 and fake.throttled == 0
