"""The Telegram side of the services' Notifier interface."""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    ReplyParameters,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.callback_data import Action, CallbackSigner
from bot.draft_render import photo_caption, render_draft
from bot.keyboards import draft_keyboard
from bot.rate_limit import retry_after_s
from bot.render import bold, escape, fit_caption, fit_text
from db.status import NotificationType
from services.notifying.notifier import (
    DeliveryFailed,
    DeliveryRefused,
    DraftView,
    NotificationView,
    PartSent,
    RecipientUnreachable,
)

log = logging.getLogger(__name__)
MAX_PHOTOS = 10


class _Step(enum.Enum):
    """The non-text parts of a flyer draft."""

    FLYER_PREVIEW = "flyer_preview"
    FLYER_PDF = "flyer_pdf"


_ICONS = {
    NotificationType.LISTING_INGESTED: "🏡",
    NotificationType.LISTING_PRICE_CHANGED: "💲",
    NotificationType.LISTING_SOLD: "🔖",
    NotificationType.POST_SUCCESS: "🎉",
    NotificationType.POST_FAILED: "⚠️",
    NotificationType.TOKEN_EXPIRING: "🔑",
    NotificationType.CONTENT_AWAITING_APPROVAL: "📝",
}


def delivery_error(exc: TelegramError) -> Exception:
    """The services' error for a Telegram error.

    `BadRequest` is a `NetworkError` in PTB, so the order matters: 403 means the agent
    blocked the bot; 400 (and a chat that moved) will fail the same way every time; 429,
    timeouts, network errors and Telegram's 5xx may pass later.
    """
    if isinstance(exc, Forbidden):
        return RecipientUnreachable(str(exc))
    if isinstance(exc, BadRequest | ChatMigrated):
        return DeliveryRefused(str(exc))
    if isinstance(exc, RetryAfter):
        return DeliveryFailed(str(exc), retry_after_s=retry_after_s(exc))
    return DeliveryFailed(str(exc))


class TelegramNotifier:
    """Sends drafts and notifications with the bot; maps Telegram errors to ours."""

    def __init__(self, bot: Bot, signer: CallbackSigner, admin_ids: Collection[int] = ()) -> None:
        self._bot = bot
        self._signer = signer
        self._admin_ids = tuple(admin_ids)

    async def send_draft(self, draft: DraftView, on_part: PartSent | None = None) -> int:
        """Photos first (first version only), then the draft's text parts, the last one with
        the buttons; parts an earlier attempt delivered are not sent again."""
        photos = (
            bool(draft.image_urls) and draft.previous_message_id is None and draft.flyer is None
        )
        # None: the photos; a _Step: the flyer's preview or its PDF (every version: the PDF
        # shows the text of that version); a string: a text part.
        steps: list[str | _Step | None] = [None] if photos else []
        if draft.flyer is not None:
            steps += [_Step.FLYER_PREVIEW, _Step.FLYER_PDF]
        steps += render_draft(draft)
        last = len(steps) - 1
        keyboard = draft_keyboard(
            self._signer, draft.piece_id, draft.version, draft.status, draft.content_type
        )
        # The message with the buttons always goes, even if the parts before it changed.
        for index in range(min(draft.parts_done, last), last + 1):
            text = steps[index]
            try:
                if text is None:
                    await self._send_photos(draft)
                elif isinstance(text, _Step):
                    await self._send_flyer(draft, text)
                elif index < last:
                    await self._bot.send_message(draft.chat_id, text)
                else:
                    assert isinstance(text, str), "a draft ends with its text"
                    message = await self._bot.send_message(
                        draft.chat_id, text, reply_markup=keyboard
                    )
                    return message.message_id
            except TelegramError as exc:
                raise delivery_error(exc) from None
            if on_part is not None:
                await on_part(index + 1)
        raise AssertionError("a rendered draft has at least one part")

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
            # A photo Telegram cannot fetch must not hold back the draft itself; a chat that
            # cannot be written to fails the draft's own message next, and is recorded there.
            log.warning(
                "draft photos not sent", extra={"piece_id": str(draft.piece_id), "error": str(exc)}
            )

    async def _send_flyer(self, draft: DraftView, step: _Step) -> None:
        flyer = draft.flyer
        assert flyer is not None
        where = escape(f"{draft.listing.address}, {draft.listing.city}")
        if step == _Step.FLYER_PREVIEW:
            await self._bot.send_photo(
                draft.chat_id,
                InputFile(flyer.preview_png, filename="flyer-preview.png"),
                caption=f"🖨 Flyer preview: {where} (version {draft.version})",
            )
            return
        await self._bot.send_document(
            draft.chat_id,
            InputFile(flyer.pdf, filename=flyer.filename),
            caption="Printable flyer (PDF, US Letter). Flyers are never posted.",
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
        except TelegramError as exc:
            raise delivery_error(exc) from None

    async def send_reminder(self, chat_id: int, reply_to_message_id: int, text: str) -> None:
        """A reply to the draft's message (sent anyway if the agent deleted it)."""
        try:
            await self._bot.send_message(
                chat_id,
                fit_text(escape(text)),
                reply_parameters=ReplyParameters(
                    reply_to_message_id, allow_sending_without_reply=True
                ),
            )
        except TelegramError as exc:
            raise delivery_error(exc) from None

    async def send_photo(self, chat_id: int, png: bytes, caption: str) -> None:
        """A PNG with its caption (escaped, cut to Telegram's caption limit)."""
        try:
            await self._bot.send_photo(
                chat_id, InputFile(png, filename="chart.png"), caption=fit_caption(escape(caption))
            )
        except TelegramError as exc:
            raise delivery_error(exc) from None

    async def alert_admins(self, text: str) -> None:
        """Send `text` to every admin; an admin who cannot be reached is only logged."""
        for admin_id in self._admin_ids:
            try:
                await self._bot.send_message(admin_id, fit_text("⚠️ " + escape(text)))
            except TelegramError as exc:
                log.warning("admin alert not sent", extra={"admin": admin_id, "error": str(exc)})
