"""Inline keyboards: which buttons a draft shows in each status."""

from __future__ import annotations

import re
import uuid

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import Action, CallbackSigner, pattern
from db.status import ContentStatus, ContentType


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
    """The buttons for a draft in `status`, or None when nothing can be done.

    Flyer text is never posted (PRODUCT.md §10): it gets Revise and Dismiss while it waits
    for the agent, and no button that could schedule or publish it.
    """
    b = _button
    if content_type != ContentType.SOCIAL_MEDIA_POST:
        if status != ContentStatus.PENDING_APPROVAL_AGENT:
            return None
        return InlineKeyboardMarkup(
            [
                [
                    b(signer, "✏️ Revise", Action.REVISE, piece_id, version),
                    b(signer, "🗑 Dismiss", Action.REJECT, piece_id, version),
                ]
            ]
        )
    if status == ContentStatus.PENDING_APPROVAL_AGENT:
        return InlineKeyboardMarkup(
            [
                [
                    b(signer, "✅ Approve", Action.APPROVE, piece_id, version),
                    b(signer, "✏️ Revise", Action.REVISE, piece_id, version),
                    b(signer, "❌ Reject", Action.REJECT, piece_id, version),
                ],
                [b(signer, "📄 Flyer text", Action.FLYER, piece_id, version)],
            ]
        )
    if status == ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL:
        return InlineKeyboardMarkup(
            [
                [
                    b(
                        signer,
                        "✅ Marketing approved",
                        Action.MARKETING_APPROVED,
                        piece_id,
                        version,
                    ),
                    b(signer, "❌ Reject", Action.REJECT, piece_id, version),
                ]
            ]
        )
    if status == ContentStatus.APPROVED_FOR_POSTING:
        return InlineKeyboardMarkup(
            [
                [
                    b(signer, "🚀 Post now", Action.POST_NOW, piece_id, version),
                    b(signer, "🛑 Cancel", Action.CANCEL, piece_id, version),
                ]
            ]
        )
    if status == ContentStatus.POSTING_FAILED:
        return InlineKeyboardMarkup([[b(signer, "🔁 Retry", Action.RETRY, piece_id, version)]])
    return None


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
