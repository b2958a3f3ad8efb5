"""bot.keyboards: which buttons a draft shows; flyer text never gets one that posts it."""

from __future__ import annotations

import uuid

from bot.callback_data import Action, CallbackSigner
from bot.keyboards import draft_keyboard
from db.status import ContentStatus, ContentType

SIGNER = CallbackSigner(b"k" * 32)
POSTING = {Action.APPROVE, Action.MARKETING_APPROVED, Action.POST_NOW, Action.RETRY}


def _actions(content_type: str, status: str) -> list[Action]:
    piece = uuid.uuid4()
    markup = draft_keyboard(SIGNER, piece, 3, status, content_type)
    if markup is None:
        return []
    return [
        SIGNER.decode(str(button.callback_data)).action
        for row in markup.inline_keyboard
        for button in row
    ]


def test_flyer_text_has_no_button_that_leads_to_posting_in_any_status() -> None:
    for status in ContentStatus:
        actions = _actions(ContentType.FLYER_TEXT, status)
        assert not POSTING & set(actions), status
        assert Action.CANCEL not in actions and Action.FLYER not in actions
    assert _actions(ContentType.FLYER_TEXT, ContentStatus.PENDING_APPROVAL_AGENT) == [
        Action.REVISE,
        Action.REJECT,  # shown as Dismiss
    ]


def test_a_social_post_keeps_its_buttons() -> None:
    social = ContentType.SOCIAL_MEDIA_POST
    assert _actions(social, ContentStatus.PENDING_APPROVAL_AGENT) == [
        Action.APPROVE,
        Action.REVISE,
        Action.REJECT,
        Action.FLYER,
    ]
    assert _actions(social, ContentStatus.APPROVED_FOR_POSTING) == [Action.POST_NOW, Action.CANCEL]
    assert _actions(social, ContentStatus.POSTING_FAILED) == [Action.RETRY]
