"""The "📄 Flyer text" button on a draft: write flyer text for the same home."""

from __future__ import annotations

import logging

from telegram.ext import CallbackQueryHandler

from bot.app_type import App
from bot.callback_data import Action, pattern
from bot.handler_kit import Tap, handles_button
from bot.render import escape

log = logging.getLogger(__name__)

WRITING = "Writing a flyer…"
UNAVAILABLE = "Flyers are not available right now; please try again later."


@handles_button(Action.FLYER)
async def on_flyer_button(t: Tap) -> None:
    """Answer at once, write the flyer, and let it arrive as a new draft message."""
    maker = t.rt.draft_maker
    if maker is None:
        await t.answer(UNAVAILABLE)
        return

    async def accepted() -> None:
        await t.answer(WRITING)

    result = await maker.request_flyer(
        piece_id=t.data.entity_id, telegram_user_id=t.user.id, on_accepted=accepted
    )
    if result.ok:
        return
    if not t.answered:
        await t.answer(result.message, alert=result.already_pending)
    elif t.message is not None:
        await t.message.reply_text(escape(result.message))


def register(app: App) -> None:
    """Route the flyer button (register before any catch-all button handler)."""
    app.add_handler(CallbackQueryHandler(on_flyer_button, pattern=pattern(Action.FLYER)))
