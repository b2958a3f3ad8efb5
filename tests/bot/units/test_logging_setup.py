"""Logs never show a secret, and HTTP client libraries never log a request URL."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import openai
import pytest
from openai import AsyncOpenAI

from bot.logging_setup import setup_logging
from services.crypto import TokenCipher, generate_key
from services.redaction import redact, remember_secret
from services.settings import load_settings
from tests.fakes.openai_server import FakeOpenAI

BOT_TOKEN = "7301234567:AAHk3fZ_Qw9xYt2LmNoPqRsTuVwXyZ01234"
OPENAI_KEY = "sk-proj-Xy12Ab34Cd56Ef78Gh90Ij12Kl34Mn56"
UNKNOWN_BOT_TOKEN = "5550001112:ZZZunregisteredTokenValue_0123456789"
PAGE_TOKEN = "EAAGpageTokenNobodyRegistered0123456789abc"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The process's logging as `rltr-mktg` sets it up, written to a string."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    setup_logging("INFO", stream)
    try:
        yield stream
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_every_kind_of_secret_is_redacted_from_a_record(log_stream: io.StringIO, tmp_path) -> None:
    encryption_key = generate_key()
    settings = load_settings(
        telegram_bot_token=BOT_TOKEN,
        openai_api_key=OPENAI_KEY,
        encryption_key=encryption_key,
        data_dir=tmp_path,
        _env_file=None,
    )
    settings.encryption_keys()
    cipher = TokenCipher([encryption_key])
    stored = TokenCipher([generate_key()])
    decrypted_token = "opaqueGraphTokenWithoutAnyPrefix42"
    # A token this process only ever decrypted (as the publisher does) is known from then on.
    assert stored.decrypt(stored.encrypt(decrypted_token)) == decrypted_token
    other_fernet_key = generate_key()
    assert cipher.decrypt(cipher.encrypt("x")) == "x"

    log = logging.getLogger("tests.redaction")
    log.info("url https://api.telegram.org/bot%s/getMe failed", BOT_TOKEN)
    log.info("unknown url http://127.0.0.1:9/bot%s/sendMessage", UNKNOWN_BOT_TOKEN)
    log.info("openai key %s and %s", OPENAI_KEY, "sk-abcdefghijklmnopqrstuv")
    log.info("graph GET /me?fields=id&access_token=%s&limit=1", PAGE_TOKEN)
    log.info("header Authorization: Bearer %s", "some.opaque-bearer_value")
    log.info("keys %s and %s", encryption_key, other_fernet_key)
    extras = {"token": decrypted_token, "error": RuntimeError(BOT_TOKEN)}
    log.warning("publish failed", extra=extras)
    try:
        raise ValueError(f"The token `{BOT_TOKEN}` was rejected by the server.")
    except ValueError:
        log.exception("with a traceback holding %s", PAGE_TOKEN)
    out = log_stream.getvalue()

    for secret in (
        BOT_TOKEN,
        BOT_TOKEN.split(":")[1],
        UNKNOWN_BOT_TOKEN.split(":")[1],
        OPENAI_KEY,
        "sk-abcdefghijklmnopqrstuv",
        PAGE_TOKEN,
        "some.opaque-bearer_value",
        encryption_key,
        other_fernet_key,
        decrypted_token,
    ):
        assert secret not in out, (secret, out)
    # What is not secret stays readable.
    assert "fields=id" in out and "&limit=1" in out and "publish failed" in out
    assert "Traceback" in out and "ValueError: The token `***` was rejected" in out
    assert out.count("\n") >= 9


def test_redact_masks_secret_shapes_and_remembered_values() -> None:
    remember_secret("short")  # too short to mask safely: ignored
    remember_secret("rememberedOpaqueValue123")
    text = redact("a short word, rememberedOpaqueValue123, IGQWRtokenvalue0123456789abcdef")
    assert text == "a short word, ***, ***"


async def test_the_openai_sdk_logs_no_request_url_at_info(log_stream: io.StringIO) -> None:
    async with FakeOpenAI() as fake:
        fake.script("server_error")
        client = AsyncOpenAI(api_key=OPENAI_KEY, base_url=fake.base_url, max_retries=0)
        try:
            with pytest.raises(openai.APIError):
                await client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
                )
        finally:
            await client.close()
        logging.getLogger("tests.redaction").info("request done")
    out = log_stream.getvalue()
    assert "request done" in out  # the handler was live at INFO
    assert "http://" not in out and "127.0.0.1" not in out, out


def test_a_request_line_from_any_logger_is_dropped_below_warning(log_stream: io.StringIO) -> None:
    logging.getLogger("somelib.transport").info(
        'HTTP Request: GET https://example.test/bot1:x "HTTP/1.1 200 OK"'
    )
    logging.getLogger("httpx9").info("connection pool opened")
    logging.getLogger("somelib.transport").warning("GET https://example.test/ failed")
    out = log_stream.getvalue()
    assert "HTTP Request" not in out and "connection pool" not in out
    assert "warning somelib.transport GET https://example.test/ failed" in out
