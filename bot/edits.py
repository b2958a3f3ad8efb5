"""Edits of the message a button sits on: `redraw`, and the reply-less edit it uses.

`Message.edit_text` turns the edited message Telegram sends back into a `Message` (every
entity, the keyboard, the chat): about a third of the bot's cost of a tap in
bench/approval.py, for an object nobody reads. `edit_text` sends the same editMessageText
through the same bot (defaults, rate limiter, retries, errors) and drops the reply.
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from bot.ptb_private import DEFAULT_NONE, post_dropping_reply

log = logging.getLogger(__name__)


async def redraw(message: Message, text: str | None, keyboard: InlineKeyboardMarkup | None) -> None:
    """Show `text` and `keyboard` on `message` (`text=None` keeps the text).

    Asking for what the message already shows is no error: a buttons-only redraw to the
    buttons it has is skipped (Telegram would refuse it), and "message is not modified"
    is ignored. Other refusals (deleted, too old) are logged; Forbidden and network
    errors are raised.
    """
    try:
        if text is not None:
            await edit_text(message, text, keyboard)
        elif shows_other_buttons(message, keyboard):
            await message.edit_reply_markup(reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            log.warning("could not redraw a message", extra={"error": str(exc)})


def shows_other_buttons(message: Message, keyboard: InlineKeyboardMarkup | None) -> bool:
    """Whether the message (as the update saw it) shows other buttons than `keyboard`."""
    current = message.reply_markup
    shown = current if current is not None and current.inline_keyboard else None
    wanted = keyboard if keyboard is not None and keyboard.inline_keyboard else None
    return shown != wanted


async def edit_text(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """`message.edit_text(text, reply_markup=keyboard)`, ignoring what Telegram returns.

    Raises what `edit_text` raises (BadRequest "message is not modified", Forbidden, ...).
    """
    bot: Bot = message.get_bot()
    # The DEFAULT_NONE placeholders are filled from the application's Defaults, as
    # edit_text would.
    await post_dropping_reply(
        bot,
        "editMessageText",
        {
            "chat_id": message.chat_id,
            "message_id": message.message_id,
            "text": text,
            "parse_mode": DEFAULT_NONE,
            "link_preview_options": DEFAULT_NONE,
            "reply_markup": keyboard,
        },
    )
