"""After a dashboard click: the agent's Telegram message of that draft shows the change.

The message is drawn again from the database (as the deliver job drew it) with the status
line and buttons a tap would have left, so the phone and the desk show the same state and
no stale Approve button stays on the phone. Nothing is sent when the draft's current
version never reached the phone, or when the draft changed again meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from telegram import Bot
from telegram.error import BadRequest, Forbidden

from bot.draft_render import render_draft, status_line
from bot.keyboards import draft_keyboard
from bot.render import italic
from bot.runtime import RUNTIME_KEY, Runtime
from db.repositories import delivery as delivery_repo
from db.repositories import drafts as drafts_repo
from services.approval import TapResult
from services.notifying.delivery import draft_view

log = logging.getLogger(__name__)

FROM_THE_DASHBOARD = italic("(from the dashboard)")


class TelegramDraftSync:
    """The bot's `DraftSync` (services.dashboard_actions): redraws the draft's message."""

    def __init__(self, bot: Bot, bot_data: Mapping[str, object]) -> None:
        self._bot = bot
        # The runtime is made in post_init, after the web server starts: read it per call.
        self._bot_data = bot_data

    async def draft_changed(self, result: TapResult) -> None:
        """Edit the agent's message of `result.piece_id` to its new state and buttons."""
        rt = self._bot_data.get(RUNTIME_KEY)
        if not isinstance(rt, Runtime) or result.status is None:
            return
        async with rt.database.unit_of_work() as session:
            found = await drafts_repo.piece_with_owner(session, result.piece_id)
        if found is None:
            return
        piece, agent, listing = found
        shown = (
            piece.telegram_chat_id is not None
            and piece.telegram_message_id is not None
            and piece.delivered_version == piece.version == result.version
            and agent.telegram_chat_id is not None
        )
        if not shown or piece.status != result.status:
            return
        view = draft_view(delivery_repo.DraftRow(piece=piece, agent=agent, listing=listing))
        line = status_line(
            result.status,
            result.scheduled,
            result.timezone or agent.timezone or rt.settings.default_timezone,
            piece.content_type,
        )
        text = render_draft(view, footer=f"{line} {FROM_THE_DASHBOARD}")[-1]
        keyboard = draft_keyboard(
            rt.signer, piece.id, piece.version, piece.status, piece.content_type
        )
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=piece.telegram_chat_id,
                message_id=piece.telegram_message_id,
                reply_markup=keyboard,
            )
        except (BadRequest, Forbidden) as exc:
            # Deleted by the agent, too old to edit, or the bot was blocked.
            log.info("could not redraw the draft message", extra={"error": str(exc)})
