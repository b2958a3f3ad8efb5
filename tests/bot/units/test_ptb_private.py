"""bot/ptb_private.py: the PTB private names it relies on still exist and still behave.

When one of these fails after a PTB upgrade, only bot/ptb_private.py needs to change.
"""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

import pytest
import telegram
from telegram import Bot
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot
from telegram.request import BaseRequest, RequestData

PTB = f"python-telegram-bot {telegram.__version__} (bot/ptb_private.py was written for 22.x)"


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("telegram._utils.defaultvalue", "DEFAULT_NONE"),
        ("telegram._utils.defaultvalue", "DefaultValue"),
        ("telegram._utils.types", "ODVInput"),
    ],
)
def test_the_private_names_exist(module: str, name: str) -> None:
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{PTB} no longer has {module}.{name}: {exc}")
    assert found is not None


def test_bot_post_takes_an_endpoint_and_data() -> None:
    post = getattr(Bot, "_post", None)
    assert post is not None, f"{PTB} no longer has Bot._post"
    params = list(inspect.signature(post).parameters)
    assert params[:3] == ["self", "endpoint", "data"], f"{PTB} changed Bot._post: {params}"


def test_the_adapter_imports_and_its_default_is_ptbs() -> None:
    try:
        from bot import ptb_private
    except ImportError as exc:
        pytest.fail(f"{PTB}: bot/ptb_private.py cannot import: {exc}")
    # The placeholder must be the one PTB's Defaults replace, i.e. BaseRequest's public one.
    assert ptb_private.DEFAULT_NONE is BaseRequest.DEFAULT_NONE, PTB
    assert isinstance(BaseRequest.DEFAULT_NONE, ptb_private.DefaultValue), PTB


class _Recorder(BaseRequest):
    """Answers every call with `true` and keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        params = request_data.json_parameters if request_data else {}
        self.sent.append((url.rsplit("/", 1)[-1], dict(params)))
        return 200, json.dumps({"ok": True, "result": True}).encode()


async def test_post_dropping_reply_fills_the_defaults_and_sends() -> None:
    from bot.ptb_private import DEFAULT_NONE, post_dropping_reply

    recorder = _Recorder()
    bot = ExtBot("1:secret", defaults=Defaults(parse_mode=ParseMode.HTML), request=recorder)
    result = await post_dropping_reply(
        bot, "editMessageText", {"chat_id": 7, "text": "hi", "parse_mode": DEFAULT_NONE}
    )
    assert result is None
    assert recorder.sent == [
        ("editMessageText", {"chat_id": "7", "text": "hi", "parse_mode": "HTML"})
    ], f"{PTB}: Bot._post no longer fills Defaults the way bot/edits.py relies on"
