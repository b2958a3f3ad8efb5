"""Small helpers the command handlers share: service errors as replies, long replies."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.render import escape, split_message
from services.errors import ServiceError

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
MAX_PARTS = 5


def replies_service_errors(handler: Handler) -> Handler:
    """Answer an expected ServiceError with its one sentence instead of an error report."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await handler(update, context)
        except ServiceError as exc:
            message = update.effective_message
            if message is None:
                return
            log.info("command refused", extra={"reason": type(exc).__name__})
            await message.reply_text(escape(exc.message))

    return wrapper


async def reply_long(message: Message, html: str, *, max_parts: int = MAX_PARTS) -> None:
    """Reply with `html`, split into several messages at Telegram's limit if needed."""
    parts = split_message(html)
    if len(parts) > max_parts:
        # A wall of messages helps nobody; say how to narrow it instead.
        parts = [*parts[:max_parts], "<i>… and more, not shown.</i>"]
    for part in parts:
        await message.reply_text(part)
