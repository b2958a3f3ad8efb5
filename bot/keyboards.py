"""Inline keyboards: which buttons a draft shows in each status."""

from __future__ import annotations

import re
import uuid

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import Action, CallbackSigner, pattern
from db.status import ContentType
from services.status_display import BUTTON_LABELS, DISMISS_LABEL, Button, bot_buttons

_ACTION = {
    Button.APPROVE: Action.APPROVE,
    Button.REVISE: Action.REVISE,
    Button.REJECT: Action.REJECT,
    Button.MARKETING_APPROVED: Action.MARKETING_APPROVED,
    Button.POST_NOW: Action.POST_NOW,
    Button.CANCEL: Action.CANCEL,
    Button.FLYER: Action.FLYER,
    Button.RETRY: Action.RETRY,
}


def _button(
    signer: CallbackSigner, label: str, action: Action, piece: uuid.UUID, v: int
) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=signer.encode(action, piece, v))


def draft_keyboard(
    signer: CallbackSigner,
    piece_id: uuid.UUID,
    version: int,
    status: str,
    content_type: str = ContentType.SOCIAL_MEDIA_POST,
) -> InlineKeyboardMarkup | None:
    """The buttons for a draft in `status` (services.status_display), or None when nothing
    can be done. Flyer text is never posted (PRODUCT.md §10): no button schedules it."""
    rows = bot_buttons(status, content_type)
    if not rows:
        return None
    flyer = content_type != ContentType.SOCIAL_MEDIA_POST

    def label(b: Button) -> str:
        return DISMISS_LABEL if flyer and b == Button.REJECT else BUTTON_LABELS[b]

    return InlineKeyboardMarkup(
        [[_button(signer, label(b), _ACTION[b], piece_id, version) for b in row] for row in rows]
    )


_REVISE = re.compile(pattern(Action.REVISE))


def awaits_agent(keyboard: InlineKeyboardMarkup | None) -> bool:
    """Whether `keyboard` is a draft's while it waits for the agent: the only one with Revise."""
    if keyboard is None:
        return False
    return any(
        isinstance(button.callback_data, str) and _REVISE.match(button.callback_data) is not None
        for row in keyboard.inline_keyboard
        for button in row
    )
