"""The Telegram side of a finished Facebook login: one button per Page to pick.

The web callback runs outside any update, so this sends with the bot directly; the
runtime (and its callback signer) is made in post_init, after the web server starts, so
it is read per call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.callback_data import Action
from bot.render import escape
from bot.runtime import RUNTIME_KEY, Runtime
from services.facebook_login import PageOffer

log = logging.getLogger(__name__)

BUTTON_LIMIT = 60


def page_label(offer: PageOffer) -> str:
    """The button text: the Page, and its Instagram account when it has one."""
    label = offer.page_name
    if offer.ig_username:
        label += f" + Instagram @{offer.ig_username}"
    return label if len(label) <= BUTTON_LIMIT else label[: BUTTON_LIMIT - 1] + "…"


class TelegramPageOffer:
    """The bot's `OfferSink` (services.facebook_login)."""

    def __init__(self, bot: Bot, bot_data: Mapping[str, object]) -> None:
        self._bot = bot
        self._bot_data = bot_data

    async def offer_pages(self, chat_id: int, pages: list[PageOffer], note: str) -> None:
        """Ask which Page to connect, one button each."""
        rt = self._bot_data.get(RUNTIME_KEY)
        if not isinstance(rt, Runtime):
            return
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        page_label(offer),
                        callback_data=rt.signer.encode(Action.FACEBOOK_PAGE, offer.id),
                    )
                ]
                for offer in pages
            ]
        )
        text = (
            "Facebook is linked. Which Page should I post to? Its linked Instagram account, "
            "if it has one, is connected with it."
        )
        if note:
            text += "\n\n" + escape(note)
        await self._send(chat_id, text, keyboard)

    async def tell(self, chat_id: int, text: str) -> None:
        """Send one sentence about how the login ended."""
        await self._send(chat_id, escape(text), None)

    async def _send(self, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
        try:
            await self._bot.send_message(chat_id, text, reply_markup=keyboard)
        except TelegramError as exc:
            # The web page still tells the agent; a blocked bot must not fail the callback.
            log.warning(
                "could not tell the agent about a facebook login", extra={"error": str(exc)}
            )
