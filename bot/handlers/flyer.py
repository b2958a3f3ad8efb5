"""The "📄 Flyer text" button on a draft: write flyer text for the same home."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.callback_data import Action, pattern
from bot.handlers.draft_buttons import decode
from bot.render import escape, fit_answer
from bot.runtime import runtime

log = logging.getLogger(__name__)

WRITING = "Writing a flyer…"


async def on_flyer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer at once, write the flyer, and let it arrive as a new draft message."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    rt = runtime(context)
    data = decode(rt, query.data)
    if data is None or data.action != Action.FLYER:
        log.warning("refused forged callback", extra={"telegram_user_id": query.from_user.id})
        await query.answer("This button is not valid.")
        return
    maker = rt.draft_maker
    if maker is None:
        await query.answer("Flyers are not available right now; please try again later.")
        return
    answered = False

    async def accepted() -> None:
        nonlocal answered
        answered = True
        await query.answer(WRITING)

    result = await maker.request_flyer(
        piece_id=data.entity_id, telegram_user_id=query.from_user.id, on_accepted=accepted
    )
    if result.ok:
        return
    if not answered:
        await query.answer(fit_answer(result.message), show_alert=result.already_pending)
    elif isinstance(query.message, Message):
        await query.message.reply_text(escape(result.message))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Route the flyer button (register before any catch-all button handler)."""
    app.add_handler(CallbackQueryHandler(on_flyer_button, pattern=pattern(Action.FLYER)))
