"""bot/handler_kit.py on the real bot and the fake Telegram: each tap answered exactly once
(also on errors), ServiceError as its sentence, outages as "try again", forged buttons
refused; and bot/edits.redraw asking Telegram for nothing that cannot change."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.callback_data import Action
from bot.edits import redraw
from bot.handler_kit import (
    DATABASE_DOWN,
    INVALID_BUTTON,
    NOT_ADMIN,
    SORRY,
    Command,
    Tap,
    handles_button,
    handles_message,
)
from db.errors import DatabaseUnavailableError
from services.errors import NotAllowedError
from tests.bot.conftest import ADMIN_ID, BotHarness, harness  # noqa: F401
from tests.fakes.telegram_api import CallbackQueryRecord, FakeUser

USER_ID = 6060
REFUSAL = "That draft is not yours; see /drafts."
# Ahead of every handler of the bot (token guard is -2), so these see the test's taps.
GROUP = -10


def _answers(h: BotHarness, query_id: str) -> list[dict[str, object]]:
    return [
        c.params
        for c in h.fake.calls
        if c.method.lower() == "answercallbackquery"
        and str(c.params.get("callback_query_id")) == query_id
    ]


async def _button_message(h: BotHarness, user: FakeUser) -> Message:
    """A bot message with one signed button (action SETTINGS, routed to the test handler)."""
    data = h.runtime.signer.encode(Action.SETTINGS, uuid.uuid4(), 0, "x")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Tap", callback_data=data)]])
    return await h.app.bot.send_message(user.id, "<b>Draft</b>", reply_markup=keyboard)


async def _tap_with(
    h: BotHarness, body: Callable[[Tap], Awaitable[None]], *, data: str | None = None
) -> tuple[CallbackQueryRecord, list[dict[str, object]], list[Tap]]:
    """Route taps to `body` through the kit, tap once, wait for the answer."""
    seen: list[Tap] = []

    @handles_button(Action.SETTINGS, stop=True)
    async def handler(t: Tap) -> None:
        seen.append(t)
        await body(t)

    h.app.add_handler(CallbackQueryHandler(handler), group=GROUP)
    user = h.fake.user(USER_ID)
    message = await _button_message(h, user)
    if data is None:
        query_id = await user.tap(message.message_id, "Tap")
    else:
        query_id = await user.tap_data(message.message_id, data)
    record = await h.fake.wait_answer(query_id)
    await asyncio.sleep(0.3)  # room for a second answer, which must not come
    return record, _answers(h, query_id), seen


async def test_a_service_error_is_the_taps_answer(harness: BotHarness) -> None:  # noqa: F811
    async def body(t: Tap) -> None:
        raise NotAllowedError(REFUSAL)

    record, answers, seen = await _tap_with(harness, body)
    assert len(seen) == 1 and seen[0].data.action == Action.SETTINGS and seen[0].data.extra == "x"
    assert record.text == REFUSAL and not record.show_alert
    assert len(answers) == 1


async def test_a_service_error_after_the_answer_answers_nothing_more(
    harness: BotHarness,  # noqa: F811
) -> None:
    async def body(t: Tap) -> None:
        await t.answer("Working on it…")
        raise NotAllowedError(REFUSAL)

    record, answers, _ = await _tap_with(harness, body)
    assert record.text == "Working on it…"
    assert len(answers) == 1


async def test_an_unexpected_error_says_sorry_once_and_reaches_the_error_handler(
    harness: BotHarness,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = harness
    admin = h.fake.user(ADMIN_ID)  # the admin opened the chat, so the alert can reach them

    async def body(t: Tap) -> None:
        raise RuntimeError("boom")

    record, answers, _ = await _tap_with(h, body)
    assert record.text == SORRY
    await admin.wait_message(lambda m: "RuntimeError" in m.content)
    assert any(r.getMessage() == "unhandled error" for r in caplog.records)
    assert len(_answers(h, record.id)) == len(answers) == 1
    # The error handler says sorry in the chat only for commands, never a second time here.
    assert not any(SORRY in text for text in h.fake.user(USER_ID).texts())


async def test_an_unreachable_database_is_try_again(harness: BotHarness) -> None:  # noqa: F811
    async def body(t: Tap) -> None:
        raise DatabaseUnavailableError("The database cannot be reached right now.")

    record, answers, _ = await _tap_with(harness, body)
    assert record.text == DATABASE_DOWN and len(answers) == 1


async def test_a_handler_that_says_nothing_still_ends_the_spinner(
    harness: BotHarness,  # noqa: F811
) -> None:
    async def body(t: Tap) -> None:
        return None

    record, answers, _ = await _tap_with(harness, body)
    assert record.answered and not record.text and len(answers) == 1


@pytest.mark.parametrize("kind", ["forged", "other action"])
async def test_buttons_not_ours_never_reach_the_handler(
    harness: BotHarness,  # noqa: F811
    kind: str,
) -> None:
    h = harness
    if kind == "forged":  # our action, but the signature does not match
        signed = h.runtime.signer.encode(Action.SETTINGS, uuid.uuid4(), 0, "x")
        data = signed[:-1] + ("A" if signed[-1] != "A" else "B")
    else:  # signed by the bot, but for a button of another handler
        data = h.runtime.signer.encode(Action.CONNECT, uuid.uuid4(), 0, "fb")

    async def body(t: Tap) -> None:
        raise AssertionError("must not run")

    record, answers, seen = await _tap_with(h, body, data=data)
    assert seen == [] and record.text == INVALID_BUTTON and len(answers) == 1


async def test_commands_show_service_errors_and_refuse_strangers_admin_commands(
    harness: BotHarness,  # noqa: F811
) -> None:
    h = harness
    ran: list[list[str]] = []

    @handles_message(stop=True)
    async def refuse(c: Command) -> None:
        ran.append(c.args)
        raise NotAllowedError("Links <b> & co are yours only; ask your administrator.")

    @handles_message(admin=True, stop=True)
    async def secret(c: Command) -> None:
        ran.append(c.args)
        await c.reply("secret")

    h.app.add_handler(CommandHandler("kitrefuse", refuse), group=GROUP)
    h.app.add_handler(CommandHandler("kitsecret", secret), group=GROUP)
    user = h.fake.user(USER_ID)
    await user.send_command("kitrefuse", "one two")
    reply = await user.next_message()
    assert reply.content == "Links <b> & co are yours only; ask your administrator."
    await user.send_command("kitsecret")
    assert (await user.next_message()).content == NOT_ADMIN
    admin = h.fake.user(ADMIN_ID)
    await admin.send_command("kitsecret")
    assert (await admin.wait_message(lambda m: m.content == "secret")).content == "secret"
    assert ran == [["one", "two"], []]


async def test_redraw_of_what_is_shown_is_no_error_and_no_request(
    harness: BotHarness,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = harness
    caplog.set_level(logging.INFO, logger="bot")
    user = h.fake.user(USER_ID)
    message = await _button_message(h, user)
    keyboard = message.reply_markup

    # The same buttons: Telegram would refuse the edit, so none is sent.
    await redraw(message, None, keyboard)
    assert h.fake.calls_to("editMessageReplyMarkup") == []
    # Other buttons: sent.
    other = InlineKeyboardMarkup([[InlineKeyboardButton("Other", callback_data="s:x")]])
    await redraw(message, None, other)
    assert len(h.fake.calls_to("editMessageReplyMarkup")) == 1
    assert user.message(message.message_id).button_labels == ["Other"]

    # The same text and buttons twice: Telegram says "not modified", which is no error.
    await redraw(message, "<b>Decided</b>", keyboard)
    await redraw(message, "<b>Decided</b>", keyboard)
    edits = h.fake.calls_to("editMessageText")
    assert [c.status for c in edits] == [200, 400]
    assert "Decided" in user.message(message.message_id).content
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    # Any other refusal is logged.
    h.fake.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    await redraw(message, "<b>Gone</b>", None)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "could not redraw a message"
    ]
