"""The photos sent before a draft, through the real PTB client and the fake Bot API."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from telegram import Bot

from bot.callback_data import CallbackSigner
from bot.render import MAX_CAPTION
from bot.telegram_notifier import TelegramNotifier
from services.notifying.notifier import DraftView, ListingSummary
from tests.fakes.telegram_api import FakeTelegram, u16len

# SQLite keeps a scraped address whatever its length; this one is ~1,900 UTF-16 units
# once Telegram has parsed it (emoji count twice, "&amp;" once).
LONG_ADDRESS = "1234 Oak & Ridge Boulevard 🏡 " * 60


def _draft(chat_id: int, images: int) -> DraftView:
    return DraftView(
        piece_id=uuid.uuid4(),
        version=1,
        chat_id=chat_id,
        content_type="social_media_post",
        purpose="new_listing",
        status="pending_approval_agent",
        generated_text={"facebook_text": "A lovely home.", "instagram_text": "A lovely home."},
        listing=ListingSummary(
            address=LONG_ADDRESS,
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
        image_urls=[f"https://holidaybuilders.com/photo-{i}.jpg" for i in range(images)],
    )


@pytest.mark.parametrize("images", [1, 3])
async def test_a_very_long_address_still_gets_its_photos(
    fake: FakeTelegram, bot: Bot, images: int
) -> None:
    agent = fake.user(1501, "Agent")
    notifier = TelegramNotifier(bot, CallbackSigner.from_secret(fake.token))
    message_id = await notifier.send_draft(_draft(agent.id, images))
    photos = [m for m in agent.messages if m.photo is not None]
    assert len(photos) == images  # Telegram (the fake) refused none of them
    caption = photos[0].caption
    assert caption is not None and caption.startswith("📷 Photos for 1234 Oak & Ridge Boulevard")
    assert caption.endswith("…")
    assert MAX_CAPTION - 30 < u16len(caption) <= MAX_CAPTION
    assert all(m.caption is None for m in photos[1:])
    assert agent.messages[-1].message_id == message_id and agent.messages[-1].buttons
