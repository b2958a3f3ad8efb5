"""WEB_HOST, WEB_PORT, PUBLIC_URL, TELEGRAM_MODE and TELEGRAM_WEBHOOK_SECRET."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler

from bot.app import ALLOWED_UPDATES, build_application
from services.settings import ConfigError, load_settings

TOKEN = "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ"


def _load(**values: object):  # type: ignore[no-untyped-def]
    return load_settings(_env_file=None, **{"telegram_bot_token": TOKEN, **values})


def test_defaults() -> None:
    s = _load()
    assert (s.web_host, s.web_port, s.telegram_mode) == ("127.0.0.1", 8080, "polling")
    assert s.public_base_url() == "http://127.0.0.1:8080"
    assert s.public_base_url(bound_port=43123) == "http://127.0.0.1:43123"
    assert _load(web_host="::1").public_base_url() == "http://[::1]:8080"
    assert _load(public_url="https://bot.example.com/").public_base_url() == (
        "https://bot.example.com"
    )


@pytest.mark.parametrize(
    "public_url",
    ["https://bot.example.com", "http://127.0.0.1:8443", "http://localhost:8080", "http://[::1]"],
)
def test_webhook_mode_accepts_https_or_loopback_http(public_url: str) -> None:
    assert _load(telegram_mode="webhook", public_url=public_url).telegram_mode == "webhook"


@pytest.mark.parametrize(
    "values",
    [
        {"public_url": "http://bot.example.com"},
        {"public_url": "http://10.0.0.5:8080"},
        {"web_host": "0.0.0.0"},  # PUBLIC_URL empty → http://0.0.0.0:8080
    ],
)
def test_webhook_mode_refuses_plain_http_elsewhere_in_one_sentence(values: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(telegram_mode="webhook", **values)
    message = str(caught.value)
    assert message.startswith("PUBLIC_URL must be an https:// address")
    assert message.endswith(".") and "\n" not in message and "PUBLIC_URL" in message


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"telegram_mode": "hook"}, "TELEGRAM_MODE"),
        ({"web_port": 70000}, "WEB_PORT"),
        ({"public_url": "bot.example.com"}, "PUBLIC_URL"),
        ({"telegram_webhook_secret": "has spaces"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"telegram_webhook_secret": "x" * 257}, "TELEGRAM_WEBHOOK_SECRET"),
    ],
)
def test_bad_values_name_the_variable(values: dict[str, object], variable: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable} "):
        _load(**values)


def test_the_webhook_secret_is_derived_from_the_token_in_telegrams_alphabet() -> None:
    derived = _load().webhook_secret()
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", derived)
    assert derived == _load().webhook_secret()  # stable across restarts and replicas
    assert TOKEN not in derived and TOKEN.split(":")[1] not in derived
    assert _load(telegram_bot_token="654321:Other").webhook_secret() != derived
    assert _load(telegram_webhook_secret="Mine_1-x").webhook_secret() == "Mine_1-x"
    assert _load(telegram_mode="WEBHOOK").telegram_mode == "webhook"


def test_allowed_updates_cover_every_registered_handler(tmp_path: Path) -> None:
    """Polling and setWebhook ask for ALLOWED_UPDATES only: every handler must be fed by it."""
    app = build_application(_load(data_dir=tmp_path), with_jobs=False)
    kinds = set()
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CallbackQueryHandler):
                kinds.add("callback_query")
            elif isinstance(handler, CommandHandler | MessageHandler):
                kinds.add("message")
            else:
                pytest.fail(f"{type(handler).__name__}: add its update type to ALLOWED_UPDATES")
    assert set(ALLOWED_UPDATES) == kinds == {"message", "callback_query"}


async def test_run_in_webhook_mode_without_an_https_url_exits_2(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_MODE": "webhook",
        "PUBLIC_URL": "http://bot.example.com",
        "DATA_DIR": str(tmp_path),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2
    assert len(lines) == 1 and "PUBLIC_URL must be an https:// address" in lines[0], lines


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"facebook_app_id": "1234567890"}, "FACEBOOK_APP_SECRET is not set"),
        ({"facebook_app_secret": "s3cret-value"}, "FACEBOOK_APP_ID is not set"),
        ({"facebook_app_id": "my-app", "facebook_app_secret": "x"}, "FACEBOOK_APP_ID must be"),
        ({"facebook_oauth_dialog_url": "www.facebook.com/dialog"}, "FACEBOOK_OAUTH_DIALOG_URL"),
    ],
)
def test_facebook_login_needs_both_app_values(values: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=f"^{words}"):
        _load(**values)


def test_facebook_login_is_off_without_an_app_and_on_with_one() -> None:
    assert not _load().facebook_login_enabled
    assert not _load(facebook_app_id=" ", facebook_app_secret="").facebook_login_enabled
    on = _load(facebook_app_id="1234567890", facebook_app_secret="s3cret-value-123")
    assert on.facebook_login_enabled
    assert on.facebook_oauth_dialog_url.startswith("https://www.facebook.com/v")
    assert on.facebook_oauth_dialog_url.endswith("/dialog/oauth")
    assert "s3cret-value-123" not in repr(on)
