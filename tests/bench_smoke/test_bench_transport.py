"""The bot's aiohttp transport (bot/aiohttp_request.py) against the fake Bot API."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.aiohttp_request import AiohttpRequest
from tests.fakes.telegram_api import FakeTelegram, FloodLimits


def _bot(fake: FakeTelegram, **timeouts: float) -> Bot:
    return Bot(
        fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=AiohttpRequest(connection_pool_size=4, **timeouts),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as server:
        yield server


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


async def test_messages_uploads_and_files(fake: FakeTelegram) -> None:
    user = fake.user(501, "Ann")
    async with _bot(fake) as bot:
        assert bot.username == fake.bot_username
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("✅ Yes", callback_data="y")]])
        sent = await bot.send_message(
            501, "<b>Hi</b> &amp; welcome ✨", parse_mode="HTML", reply_markup=keyboard
        )
        assert user.message(sent.message_id).text == "Hi & welcome ✨"
        assert user.message(sent.message_id).button_labels == ["✅ Yes"]
        # Without files the parameters travel as a typed JSON body.
        params = fake.calls_to("sendMessage")[-1].params
        assert params["chat_id"] == 501 and isinstance(params["reply_markup"], dict)
        await bot.edit_message_text("Bye", chat_id=501, message_id=sent.message_id)
        assert user.message(sent.message_id).text == "Bye"
        photo = await bot.send_photo(501, InputFile(_png(), filename="a.png"), caption="Pool")
        stored = user.message(photo.message_id)
        assert stored.photo is not None and (stored.photo.width, stored.photo.height) == (64, 48)
        assert stored.caption == "Pool"
        file = await bot.get_file(photo.photo[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == _png()


async def test_error_replies_become_ptb_errors(fake: FakeTelegram) -> None:
    fake.user(502)
    async with _bot(fake) as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999_999, "nobody")
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_message(502, "later")
        fake.block(502)
        with pytest.raises(Forbidden):
            await bot.send_message(502, "blocked")


async def test_slow_server_times_out(fake: FakeTelegram) -> None:
    fake.user(503)
    async with _bot(fake, read_timeout=0.1, write_timeout=0.1) as bot:
        fake.latency = 0.5
        with pytest.raises(TimedOut):
            await bot.send_message(503, "too slow")


async def test_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(connection_pool_size=1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/botX/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()
    # As with PTB's own transport, misuse surfaces as a NetworkError naming the cause.
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"http://127.0.0.1:{port}/botX/getMe")
