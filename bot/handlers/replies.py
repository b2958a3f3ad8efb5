"""Long replies, split at Telegram's limit (the handlers' other shared helper is
bot/handler_kit.py)."""

from __future__ import annotations

from telegram import Message

from bot.render import split_message

MAX_PARTS = 5


async def reply_long(message: Message, html: str, *, max_parts: int = MAX_PARTS) -> None:
    """Reply with `html`, split into several messages at Telegram's limit if needed."""
    parts = split_message(html)
    if len(parts) > max_parts:
        # A wall of messages helps nobody; say how to narrow it instead.
        parts = [*parts[:max_parts], "<i>… and more, not shown.</i>"]
    for part in parts:
        await message.reply_text(part)
