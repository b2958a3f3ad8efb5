"""The real PTB Application, long polling against the fake: updates in, replies out."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import FakeTelegram


def _approval_bot(app: Application) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_user is not None
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("✅ Approve", callback_data="a:draft-1"),
                    InlineKeyboardButton("✏️ Revise", callback_data="r:draft-1"),
                ]
            ]
        )
        await update.message.reply_text(
            f"Hello <b>{update.effective_user.first_name}</b>, token={context.args}",
            reply_markup=keyboard,
        )

    async def approve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Approved")
        await query.edit_message_text(f"Approved ({query.data})")

    async def revise(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        await context.bot.send_message(
            query.message.chat.id, "What should change?", reply_markup=ForceReply()
        )

    async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        replied = update.message.reply_to_message
        where = replied.message_id if replied else None
        await update.message.reply_text(f"Feedback noted: {update.message.text} (re {where})")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(approve, pattern="^a:"))
    app.add_handler(CallbackQueryHandler(revise, pattern="^r:"))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, feedback))


async def test_initialize_calls_get_me_and_reads_username(fake: FakeTelegram) -> None:
    async with fake.application_builder().build() as app:
        assert app.bot.username == fake.bot_username
        assert app.bot.id == fake.bot_id
    assert [call.method for call in fake.calls] == ["getMe"]
    assert fake.calls[0].content_type == ""  # PTB sends no body for getMe


async def test_command_and_callback_round_trip(fake: FakeTelegram, polling) -> None:
    alice = fake.user(1001, "Alice", username="alice")
    async with polling(fake, _approval_bot):
        sent = await alice.send_command("/start", "invite123")
        reply = await alice.next_message()
        assert reply.text == "Hello Alice, token=['invite123']"
        assert reply.entities == [{"type": "bold", "offset": 6, "length": 5}]
        assert reply.raw == "Hello <b>Alice</b>, token=['invite123']"
        assert reply.parse_mode == "HTML"
        assert reply.button_labels == ["✅ Approve", "✏️ Revise"]
        assert reply.message_id == sent.message_id + 1

        query_id = await alice.tap(reply.message_id, "approve")
        answer = await fake.wait_answer(query_id)
        assert answer.text == "Approved"
        edited = await alice.wait_message(lambda m: m.text.startswith("Approved"))
        assert edited.message_id == reply.message_id
        assert edited.text == "Approved (a:draft-1)"
        # Editing without reply_markup removes the keyboard, as on Telegram.
        assert edited.buttons == []
        assert [e.method for e in edited.edits] == ["editMessageText"]
    methods = [call.method for call in fake.calls if call.method != "getUpdates"]
    assert methods == [
        "getMe",
        "deleteWebhook",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
    ]
    update_ids = sorted(fake.updates)
    assert update_ids == [1, 2]
    assert all(record.delivered_at is not None for record in fake.updates.values())


async def test_force_reply_and_reply_to_message(fake: FakeTelegram, polling) -> None:
    bob = fake.user(1002, "Bob")
    async with polling(fake, _approval_bot):
        await bob.send_command("/start")
        draft = await bob.next_message()
        await bob.tap(draft.message_id, "Revise")
        prompt = await bob.next_message()
        assert prompt.text == "What should change?"
        assert prompt.force_reply
        await bob.send_text("Mention the pool", reply_to=prompt.message_id)
        noted = await bob.next_message()
        assert noted.text == f"Feedback noted: Mention the pool (re {prompt.message_id})"


async def test_updates_are_delivered_in_order_and_confirmed_by_offset(fake: FakeTelegram) -> None:
    users = [fake.user(2000 + i, f"U{i}") for i in range(5)]
    for user in users:
        await user.send_text(f"hello from {user.id}")
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        first = await bot.get_updates(limit=3)
        assert [u.update_id for u in first] == [1, 2, 3]
        again = await bot.get_updates()
        assert [u.update_id for u in again] == [1, 2, 3, 4, 5]  # nothing confirmed yet
        rest = await bot.get_updates(offset=4)
        assert [u.message.text for u in rest] == ["hello from 2003", "hello from 2004"]
        assert await bot.get_updates(offset=6) == ()
    assert fake.pending_updates() == 0


async def test_long_poll_holds_until_timeout_when_empty(fake: FakeTelegram) -> None:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
        assert 0.9 <= time.monotonic() - started < 2.5


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake: FakeTelegram) -> None:
    carol = fake.user(1003, "Carol")
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        await carol.send_text("ping")
        updates = await poll
        assert [u.message.text for u in updates] == ["ping"]
        assert time.monotonic() - started < 2


async def test_second_poller_terminates_the_first_with_conflict(fake: FakeTelegram) -> None:
    from telegram.error import Conflict

    # Two bot instances (one Bot has a single getUpdates connection).
    async with (
        Bot(fake.token, base_url=fake.base_url) as bot,
        Bot(fake.token, base_url=fake.base_url) as other,
    ):
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        assert await second == ()


async def test_callback_query_carries_the_current_message(fake: FakeTelegram) -> None:
    dana = fake.user(1004, "Dana")
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Reject", callback_data="x:1")]])
        sent = await bot.send_message(dana.id, "Draft v1", reply_markup=markup)
        query_id = await dana.tap(sent.message_id, "reject")
        forged_id = await dana.tap_data(sent.message_id, "a:forged")
        updates = await bot.get_updates()
        first, second = (u.callback_query for u in updates)
        assert first.id == query_id and first.data == "x:1"
        assert first.message.text == "Draft v1"
        assert first.from_user.id == dana.id
        assert second.id == forged_id and second.data == "a:forged"
        with pytest.raises(LookupError, match="no button containing 'approve'"):
            await dana.tap(sent.message_id, "approve")


async def test_many_users_are_served_quickly(fake: FakeTelegram, polling) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"echo {update.message.text}")

    users = [fake.user(10_000 + i, f"User{i}") for i in range(400)]
    started = time.monotonic()
    async with polling(
        fake,
        lambda app: app.add_handler(MessageHandler(filters.TEXT, echo)),
        concurrent_updates=64,
    ):
        for user in users:
            await user.send_text(f"hi {user.id}")
        await fake.wait_for(
            lambda: all(u.last_message is not None for u in users), timeout=30, what="replies"
        )
    assert all(u.last_message.text == f"echo hi {u.id}" for u in users)
    assert time.monotonic() - started < 30
