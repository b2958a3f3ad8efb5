"""Buttons on drafts (Approve, Revise, Reject, ...), feedback messages and /drafts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from telegram import ForceReply, Message

from bot.callback_data import Action
from bot.draft_render import status_line, with_status
from bot.edits import redraw
from bot.handler_kit import Command, Tap, handles_button, handles_message
from bot.handlers.start import STRANGER
from bot.keyboards import awaits_agent, draft_keyboard
from services import draft_taps, metrics
from services.notifying import delivery

log = logging.getLogger(__name__)

DRAFT_ACTIONS = (
    Action.APPROVE,
    Action.REVISE,
    Action.REJECT,
    Action.MARKETING_APPROVED,
    Action.POST_NOW,
    Action.CANCEL,
    Action.RETRY,
)


@handles_button(*DRAFT_ACTIONS, counted=True)
async def on_draft_button(t: Tap) -> None:
    """One tap: one service call (a single write on PostgreSQL), then the answer and the
    redrawn message side by side."""
    data, message = t.data, t.message
    name = data.action.name.lower()
    result = await draft_taps.tap(
        t.rt.database,
        name,
        piece_id=data.entity_id,
        version=data.version,
        telegram_user_id=t.user.id,
        default_timezone=t.rt.settings.default_timezone,
    )
    metrics.record_tap(name, metrics.tap_outcome(result.ok, result.stale))
    if message is None:
        await t.answer(result.answer)
    elif result.ok and data.action == Action.REVISE:
        await answer_and_show(t, result.answer, ask_for_feedback(message))
    elif result.ok and result.status is not None:
        line = status_line(
            result.status, result.scheduled, result.timezone or "UTC", result.content_type
        )
        keyboard = draft_keyboard(
            t.rt.signer, data.entity_id, data.version, result.status, result.content_type
        )
        text = with_status(
            message.text_html or "", line, awaiting_agent=awaits_agent(message.reply_markup)
        )
        await answer_and_show(t, result.answer, redraw(message, text, keyboard))
    elif result.stale and t.user.id == (message.chat.id if message.chat else None):
        # Out-of-date buttons: show what the draft is now, and remove what no longer applies.
        keyboard = (
            draft_keyboard(
                t.rt.signer, data.entity_id, result.version, result.status, result.content_type
            )
            if result.status and result.version == data.version
            else None
        )
        await answer_and_show(t, result.answer, redraw(message, None, keyboard))
    else:
        await t.answer(result.answer)


async def answer_and_show(t: Tap, answer: str, show: Awaitable[object]) -> None:
    """Answer the tap and show its outcome at once: the two calls are independent, so the
    agent sees the new state a round trip sooner than if one waited for the other."""
    await asyncio.gather(t.answer(answer), show)


async def ask_for_feedback(message: Message) -> None:
    """The Revise prompt: the agent's reply (or next message) is the feedback."""
    await message.reply_text(
        "✏️ What should change? Reply with your feedback in one message "
        "(for example: shorter, no emojis, mention the pool).",
        reply_markup=ForceReply(selective=True, input_field_placeholder="Your feedback"),
    )


@handles_message()
async def on_text(c: Command) -> None:
    """A plain message: feedback for the draft being revised, or a nudge to /help."""
    if not c.message.text:
        return
    replied = c.message.reply_to_message
    accepted = await draft_taps.feedback_from_message(
        c.rt.database,
        telegram_user_id=c.user.id,
        text=c.message.text,
        chat_id=c.message.chat.id,
        replied_message_id=replied.message_id if replied is not None else None,
    )
    if accepted is None:
        await c.reply(
            "I read messages only as feedback after you tap ✏️ Revise on a draft. "
            "See /help for what I can do."
        )
        return
    await c.reply("👍 Got it — rewriting the draft now.")
    if c.rt.draft_maker is not None:
        c.context.application.create_task(
            c.rt.draft_maker.rewrite(accepted.piece_id), update=c.update
        )


@handles_message()
async def drafts_command(c: Command) -> None:
    """/drafts: send again every draft waiting for the agent."""
    count = await delivery.resend_drafts_to_agent(
        c.rt.database, c.rt.notifier, telegram_user_id=c.user.id
    )
    if count is None:
        await c.reply(STRANGER)
    elif count == 0:
        await c.reply("No drafts are waiting for you right now. 🎉")
