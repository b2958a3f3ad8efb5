"""Rendered text sent through the real PTB client: Telegram (the fake) accepts all of it."""

from __future__ import annotations

import uuid

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.callback_data import Action, CallbackSigner
from bot.render import (
    MAX_CAPTION,
    MAX_TEXT,
    bold,
    escape,
    fit_caption,
    fit_text,
    italic,
    link,
    split_message,
    visible_length,
)
from tests.fakes.telegram_api import FakeTelegram

# Scraped text is hostile by accident: markup-like characters, ampersands, emoji.
SCRAPED = (
    "Welcome home to 1234 Oak <Ridge> Dr — 4 bd / 3 ba & 2,450 sq ft! 🏡 "
    'Kitchen w/ quartz <counters> & "chef\'s" island; pool <spa>. '
)


def _listing_post(paragraphs: int) -> str:
    parts = [bold("New listing: 1234 Oak Ridge Dr") + "\n" + italic("$349,990 · 4 bd · 3 ba")]
    for i in range(paragraphs):
        parts.append(f"{bold(f'Room {i}')}\n{escape(SCRAPED * 3)}")
    parts.append(link("See the listing & photos", "https://www.holidaybuilders.com/home?id=1&x=2"))
    return "\n\n".join(parts)


async def test_raw_long_post_is_refused_but_split_parts_are_accepted(
    fake: FakeTelegram, bot: Bot
) -> None:
    agent = fake.user(1401, "Agent")
    post = _listing_post(40)
    assert visible_length(post) > MAX_TEXT
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(agent.id, post)
    parts = split_message(post)
    assert len(parts) >= 2
    for part in parts:
        await bot.send_message(agent.id, part)
    shown = [m.text for m in agent.messages]
    assert len(shown) == len(parts)
    assert shown[0].startswith("New listing: 1234 Oak Ridge Dr")
    assert all("<Ridge>" in text for text in shown)  # escaped, shown literally
    assert shown[-1].endswith("See the listing & photos")
    link_entity = agent.messages[-1].entities[-1]
    assert link_entity["url"] == "https://www.holidaybuilders.com/home?id=1&x=2"


async def test_truncated_text_with_buttons_is_accepted(fake: FakeTelegram, bot: Bot) -> None:
    agent = fake.user(1402, "Agent")
    signer = CallbackSigner.from_secret(bot.token)
    draft = uuid.uuid4()
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "✅ Approve", callback_data=signer.encode(Action.APPROVE, draft, 9)
                ),
                InlineKeyboardButton(
                    "✏️ Revise", callback_data=signer.encode(Action.REVISE, draft, 9)
                ),
                InlineKeyboardButton(
                    "❌ Reject", callback_data=signer.encode(Action.REJECT, draft, 9)
                ),
            ],
            [
                InlineKeyboardButton(
                    "⚙️", callback_data=signer.encode(Action.SETTINGS, draft, MAX_TEXT, "n.price")
                )
            ],
        ]
    )
    text = fit_text(_listing_post(60))
    sent = await bot.send_message(agent.id, text, reply_markup=keyboard)
    assert visible_length(text) <= MAX_TEXT
    assert sent.text.endswith("…")
    tapped = await agent.tap(sent.message_id, "Approve")
    assert signer.decode(fake.callbacks[tapped].data).version == 9


async def test_fitted_captions_are_accepted_on_photos_and_albums(
    fake: FakeTelegram, bot: Bot
) -> None:
    agent = fake.user(1403, "Agent")
    caption = bold("Price improvement") + "\n" + escape(SCRAPED * 20)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(agent.id, "https://cdn.example.com/front.jpg", caption=caption)
    fitted = fit_caption(caption)
    assert visible_length(fitted) <= MAX_CAPTION
    await bot.send_photo(agent.id, "https://cdn.example.com/front.jpg", caption=fitted)
    album = [
        InputMediaPhoto("https://cdn.example.com/1.jpg", caption=fitted, parse_mode=ParseMode.HTML),
        InputMediaPhoto("https://cdn.example.com/2.jpg"),
    ]
    await bot.send_media_group(agent.id, album)
    captions = [m.caption for m in agent.messages if m.caption]
    assert len(captions) == 2 and all(c.startswith("Price improvement\n") for c in captions)
    assert all(c.endswith("…") for c in captions)
