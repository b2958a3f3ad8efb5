"""The one place that uses python-telegram-bot's private names (tested with PTB 22).

PTB may rename anything under `telegram._utils` or `Bot._post` in any release, so the
dependency is capped below the next major in pyproject.toml and
tests/bot/units/test_ptb_private.py names the PTB version when one of these disappears.
Everything else in bot/ uses PTB's public API and imports what it needs of this from here.

- `DefaultValue`, `ODVInput`: how a `BaseRequest` subclass (bot/aiohttp_request.py) tells
  "no timeout given" apart from an explicit one, as PTB's own HTTPXRequest does.
- `post_dropping_reply`: a Bot API call through the bot's own path (Defaults filled in,
  rate limiter, errors) without turning Telegram's reply into objects (bot/edits.py).
"""

from __future__ import annotations

from typing import Any

from telegram import Bot
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import ODVInput

__all__ = ["DEFAULT_NONE", "DefaultValue", "ODVInput", "post_dropping_reply"]


async def post_dropping_reply(bot: Bot, endpoint: str, data: dict[str, Any]) -> None:
    """Call `endpoint` with `data` as the bot's own methods do, and drop the reply.

    `DEFAULT_NONE` values in `data` are filled from the application's Defaults.
    """
    # Bot._post is what every Bot method calls after building its data; the public
    # do_api_request skips the Defaults and warns for endpoints PTB already wraps.
    await bot._post(endpoint, data)
