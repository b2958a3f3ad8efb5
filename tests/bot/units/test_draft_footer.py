"""The footer of a draft message: a tap's status line takes the hint's place exactly as
rendering the draft with that footer would, and later decisions add their lines below.
Whether the hint is there comes from the buttons the message showed (bot.keyboards)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from bot.callback_data import CallbackSigner
from bot.draft_render import BLOCK, render_draft, status_line, with_status
from bot.keyboards import awaits_agent, draft_keyboard
from db.status import ContentStatus, ContentType
from services.notifying.notifier import DraftView, ListingSummary

SIGNER = CallbackSigner(b"f" * 32)


def _draft(content_type: str) -> DraftView:
    flyer = content_type == ContentType.FLYER_TEXT
    return DraftView(
        piece_id=uuid.uuid4(),
        version=2,
        chat_id=1,
        content_type=content_type,
        purpose="flyer" if flyer else "new_listing",
        status=ContentStatus.PENDING_APPROVAL_AGENT,
        generated_text=(
            {"headline": "Room to grow", "bullets": ["3 bd", "Big yard"]}
            if flyer
            else {"facebook_text": "A lovely home.\n\nWith a yard.", "instagram_text": "Home!"}
        ),
        listing=ListingSummary(
            address="12 Oak St",
            city="Ocala",
            state="FL",
            zip_code="34473",
            price=Decimal("349990"),
            beds=3,
            baths=Decimal("2"),
            sqft=1850,
            garage=2,
            community="Marion Oaks",
            plan_name="Sanibel",
            status="active",
            source_url="https://holidaybuilders.com/home-1/",
        ),
        warnings=[{"kind": "fact", "message": "Check the price.", "suggestion": "$349,990"}],
    )


@pytest.mark.parametrize("content_type", [ContentType.SOCIAL_MEDIA_POST, ContentType.FLYER_TEXT])
def test_the_first_decision_replaces_the_hint_as_rendering_would(content_type: str) -> None:
    draft = _draft(content_type)
    shown = render_draft(draft)[-1]
    line = status_line(ContentStatus.REJECTED, content_type=content_type)
    after = with_status(shown, line, awaiting_agent=True)
    assert after == render_draft(draft, footer=line)[-1]
    assert after.endswith(BLOCK + line) and "Revise to tell me" not in after
    assert after.startswith(shown.rsplit(BLOCK, 1)[0])


def test_later_decisions_come_below_the_earlier_ones() -> None:
    draft = _draft(ContentType.SOCIAL_MEDIA_POST)
    waiting = status_line(ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL)
    first = with_status(render_draft(draft)[-1], waiting, awaiting_agent=True)
    rejected = status_line(ContentStatus.REJECTED)
    second = with_status(first, rejected, awaiting_agent=False)
    assert second == first + BLOCK + rejected


@pytest.mark.parametrize("content_type", [ContentType.SOCIAL_MEDIA_POST, ContentType.FLYER_TEXT])
def test_only_the_buttons_of_a_draft_waiting_for_the_agent_say_so(content_type: str) -> None:
    waiting = {
        status
        for status in ContentStatus
        if awaits_agent(draft_keyboard(SIGNER, uuid.uuid4(), 1, status, content_type))
    }
    assert waiting == {ContentStatus.PENDING_APPROVAL_AGENT}
    assert not awaits_agent(None)
