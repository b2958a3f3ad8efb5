"""Every text the bot reads passes here first: a message holding an access token is deleted
and goes no further (not to feedback, settings or any other handler), PRODUCT.md §11.

The one exception is the reply to a /connect prompt, which is how a token is meant to
arrive: the /connect handler reads it and deletes it at once.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, MessageHandler, filters

from bot.app_type import App
from bot.handlers.connect import prompt_platform
from services.pasted_tokens import looks_like_token

log = logging.getLogger(__name__)

# Ahead of /connect's group (-1), so that e.g. "/connect EAAG…" is caught too.
GROUP = -2
DELETED = (
    "🔒 I deleted your message because it looked like an access token, and I kept no copy. "
    "To connect Facebook or Instagram, send /connect and reply to the prompt it shows."
)
NOT_DELETED = (
    "🔒 Your message looked like an access token: I kept no copy, but I could not delete it, "
    "so please delete it yourself. To connect Facebook or Instagram, send /connect and reply "
    "to the prompt it shows."
)


def register(app: App) -> None:
    """Add the guard in its own group, before every other handler."""
    app.add_handler(MessageHandler(filters.TEXT | filters.CAPTION, on_text), group=GROUP)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete a message that holds a token and stop it here; anything else passes on."""
    message = update.effective_message
    if message is None:
        return
    if not looks_like_token(message.text or message.caption or ""):
        return
    if prompt_platform(message, context.bot.id) is not None:
        return  # a reply to a /connect prompt: the /connect handler reads and deletes it
    try:
        deleted = bool(await message.delete())
    except TelegramError as exc:
        log.warning("could not delete a message holding a token", extra={"error": str(exc)})
        deleted = False
    log.info(
        "stopped a message holding a token", extra={"chat_id": message.chat_id, "deleted": deleted}
    )
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(message.chat_id, DELETED if deleted else NOT_DELETED)
    raise ApplicationHandlerStop
