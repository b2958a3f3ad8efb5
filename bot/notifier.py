"""The Telegram side of the services' Notifier interface."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.callback_data import Action, CallbackSigner
from bot.draft_render import photo_caption, render_draft
from bot.keyboards import draft_keyboard
from bot.render import bold, escape, fit_text
from db.status import NotificationType
from services.notifier import DeliveryFailed, DraftView, NotificationView, RecipientUnreachable

log = logging.getLogger(__name__)
MAX_PHOTOS = 10

_ICONS = {
    NotificationType.LISTING_INGESTED: "🏡",
    NotificationType.LISTING_PRICE_CHANGED: "💲",
    NotificationType.LISTING_SOLD: "🔖",
    NotificationType.POST_SUCCESS: "🎉",
    NotificationType.POST_FAILED: "⚠️",
    NotificationType.TOKEN_EXPIRING: "🔑",
    NotificationType.CONTENT_AWAITING_APPROVAL: "📝",
}


class TelegramNotifier:
    """Sends drafts and notifications with the bot; maps Telegram errors to ours."""

    def __init__(self, bot: Bot, signer: CallbackSigner) -> None:
        self._bot = bot
        self._signer = signer

    async def send_draft(self, draft: DraftView) -> int:
        """Photos first (first version only), then the draft with its buttons."""
        try:
            if draft.image_urls and draft.previous_message_id is None:
                await self._send_photos(draft)
            parts = render_draft(draft)
            for part in parts[:-1]:
                await self._bot.send_message(draft.chat_id, part)
            keyboard = draft_keyboard(
                self._signer, draft.piece_id, draft.version, draft.status, draft.content_type
            )
            message = await self._bot.send_message(draft.chat_id, parts[-1], reply_markup=keyboard)
            return message.message_id
        except Forbidden as exc:
            raise RecipientUnreachable(str(exc)) from None
        except (RetryAfter, NetworkError) as exc:
            raise DeliveryFailed(str(exc)) from None

    async def _send_photos(self, draft: DraftView) -> None:
        urls = draft.image_urls[:MAX_PHOTOS]
        caption = photo_caption(draft)
        try:
            if len(urls) == 1:
                await self._bot.send_photo(draft.chat_id, urls[0], caption=caption)
            else:
                media = [
                    InputMediaPhoto(url, caption=caption if i == 0 else None)
                    for i, url in enumerate(urls)
                ]
                await self._bot.send_media_group(draft.chat_id, media)
        except BadRequest as exc:
            # A photo Telegram cannot fetch must not hold back the draft itself.
            log.warning(
                "draft photos not sent", extra={"piece_id": str(draft.piece_id), "error": str(exc)}
            )

    async def mark_superseded(self, chat_id: int, message_id: int, new_version: int) -> None:
        """Replace an older draft message by a pointer to the newer one."""
        text = (
            "↪️ "
            + bold(f"Replaced by the message below (version {new_version}).")
            + (" Nothing to do here.")
        )
        try:
            await self._bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        except Forbidden as exc:
            raise RecipientUnreachable(str(exc)) from None
        except TelegramError as exc:
            # Deleted by the agent or too old to edit: the new version is what matters.
            log.info("could not mark draft superseded", extra={"error": str(exc)})

    async def send_notification(self, note: NotificationView) -> None:
        """One notification, with a Retry button for a failed post."""
        icon = _ICONS.get(note.notification_type, "ℹ️")  # type: ignore[call-overload]
        markup = None
        if (
            note.notification_type == NotificationType.POST_FAILED
            and note.related_entity_id is not None
            and note.piece_version is not None
        ):
            data = self._signer.encode(Action.RETRY, note.related_entity_id, note.piece_version)
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("🔁 Retry", callback_data=data)]])
        try:
            await self._bot.send_message(
                note.chat_id, fit_text(f"{icon} {escape(note.message)}"), reply_markup=markup
            )
        except Forbidden as exc:
            raise RecipientUnreachable(str(exc)) from None
        except (RetryAfter, NetworkError) as exc:
            raise DeliveryFailed(str(exc)) from None
