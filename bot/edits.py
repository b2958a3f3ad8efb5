"""Edits of the message a button sits on, without reading Telegram's reply.

`Message.edit_text` turns the edited message Telegram sends back into a `Message` (every
entity, the keyboard, the chat): about a third of the bot's cost of a tap in
bench/approval.py, for an object nobody reads. This sends the same editMessageText
through the same bot (defaults, rate limiter, retries, errors) and drops the reply.
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardMarkup, Message

from bot.ptb_private import DEFAULT_NONE, post_dropping_reply


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
