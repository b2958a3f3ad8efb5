"""Buttons on drafts (Approve, Revise, Reject, ...), feedback messages and /drafts."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import edits
from bot.callback_data import Action, CallbackData, ForgedCallback
from bot.draft_render import status_line, with_status
from bot.handlers.start import STRANGER
from bot.keyboards import draft_keyboard
from bot.render import fit_answer
from bot.runtime import Runtime, runtime
from db.driver import Executor
from db.errors import DatabaseUnavailableError
from db.repositories import agents as agents_repo
from db.repositories import content as content_repo
from services import approval, metrics
from services.approval import TapResult
from services.notifying import delivery

log = logging.getLogger(__name__)

Transition = Callable[[Executor, CallbackData, int, Runtime], Awaitable[TapResult]]
DATABASE_DOWN = "I can't reach my database right now. Try again in a moment."


async def _approve(c: Executor, d: CallbackData, uid: int, rt: Runtime) -> TapResult:
    return await approval.approve(
        c,
        piece_id=d.entity_id,
        version=d.version,
        telegram_user_id=uid,
        default_timezone=rt.settings.default_timezone,
    )


async def _marketing(c: Executor, d: CallbackData, uid: int, rt: Runtime) -> TapResult:
    return await approval.record_marketing_approval(
        c,
        piece_id=d.entity_id,
        version=d.version,
        telegram_user_id=uid,
        default_timezone=rt.settings.default_timezone,
    )


async def _reject(c: Executor, d: CallbackData, uid: int, rt: Runtime) -> TapResult:
    return await approval.reject(c, piece_id=d.entity_id, version=d.version, telegram_user_id=uid)


async def _revise(c: Executor, d: CallbackData, uid: int, rt: Runtime) -> TapResult:
    return await approval.start_revision(
        c, piece_id=d.entity_id, version=d.version, telegram_user_id=uid
    )


async def _post_now(c: Executor, d: CallbackData, uid: int, rt: Runtime) -> TapResult:
    return await approval.post_now(c, piece_id=d.entity_id, version=d.version, telegram_user_id=uid)


async def _cancel(c: Executor, d: CallbackData, uid: int, rt: Runtime) -> TapResult:
    return await approval.cancel(c, piece_id=d.entity_id, version=d.version, telegram_user_id=uid)


async def _retry(c: Executor, d: CallbackData, uid: int, rt: Runtime) -> TapResult:
    return await approval.retry(
        c,
        piece_id=d.entity_id,
        version=d.version,
        telegram_user_id=uid,
        default_timezone=rt.settings.default_timezone,
    )


TRANSITIONS: dict[Action, Transition] = {
    Action.APPROVE: _approve,
    Action.MARKETING_APPROVED: _marketing,
    Action.REJECT: _reject,
    Action.REVISE: _revise,
    Action.POST_NOW: _post_now,
    Action.CANCEL: _cancel,
    Action.RETRY: _retry,
}


def decode(rt: Runtime, data: str | None) -> CallbackData | None:
    """The button's content, or None when it was not signed by this bot."""
    try:
        return rt.signer.decode(data or "")
    except ForgedCallback:
        return None


@metrics.timed_tap
async def on_draft_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One tap: one service call (a single write on PostgreSQL), then the answer and the
    redrawn message side by side."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    rt = runtime(context)
    data = decode(rt, query.data)
    if data is None or data.action not in TRANSITIONS:
        log.warning("refused forged callback", extra={"telegram_user_id": query.from_user.id})
        metrics.record_tap("invalid", "forged")
        await query.answer("This button is not valid.", show_alert=False)
        return
    try:
        async with rt.database.tap() as conn:
            result = await TRANSITIONS[data.action](conn, data, query.from_user.id, rt)
    except DatabaseUnavailableError:
        # Answered within seconds all the same; the jobs' errors tell the admins.
        log.warning("tap refused: database unavailable", extra={"action": data.action.name})
        metrics.record_tap(data.action.name.lower(), "database_unavailable")
        await _answer(query, DATABASE_DOWN)
        return
    metrics.record_tap(data.action.name.lower(), metrics.tap_outcome(result.ok, result.stale))
    message = query.message
    if not isinstance(message, Message):
        await _answer(query, result.answer)
        return
    if result.ok and data.action == Action.REVISE:
        await answer_and_show(query, result.answer, ask_for_feedback(message))
    elif result.ok and result.status is not None:
        line = status_line(
            result.status, result.scheduled, result.timezone or "UTC", result.content_type
        )
        keyboard = draft_keyboard(
            rt.signer, data.entity_id, data.version, result.status, result.content_type
        )
        text = with_status(message.text_html or "", line)
        await answer_and_show(query, result.answer, redraw(message, text, keyboard))
    elif result.stale and query.from_user.id == (message.chat.id if message.chat else None):
        # Out-of-date buttons: show what the draft is now, and remove what no longer applies.
        keyboard = (
            draft_keyboard(
                rt.signer, data.entity_id, result.version, result.status, result.content_type
            )
            if result.status and result.version == data.version
            else None
        )
        if _shows_other_buttons(message, keyboard):
            await answer_and_show(query, result.answer, _redraw_markup(message, keyboard))
        else:
            await _answer(query, result.answer)
    else:
        await _answer(query, result.answer)


async def answer_and_show(query: CallbackQuery, answer: str, show: Awaitable[object]) -> None:
    """Answer the tap and show its outcome at once: the two calls are independent, so the
    agent sees the new state a round trip sooner than if one waited for the other."""
    await asyncio.gather(_answer(query, answer), show)


async def _answer(query: CallbackQuery, text: str) -> None:
    try:
        await query.answer(fit_answer(text))
    except BadRequest as exc:
        # Telegram refuses answers to taps it considers too old; the edit still shows the
        # outcome, so this is no error for the agent or the admins.
        log.info("could not answer tap", extra={"error": str(exc)})


async def ask_for_feedback(message: Message) -> None:
    """The Revise prompt: the agent's reply (or next message) is the feedback."""
    await message.reply_text(
        "✏️ What should change? Reply with your feedback in one message "
        "(for example: shorter, no emojis, mention the pool).",
        reply_markup=ForceReply(selective=True, input_field_placeholder="Your feedback"),
    )


async def redraw(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Show the draft's new state on its message; an unchanged message is no error."""
    try:
        await edits.edit_text(message, text, keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            log.warning("could not edit draft message", extra={"error": str(exc)})


def _shows_other_buttons(message: Message, keyboard: InlineKeyboardMarkup | None) -> bool:
    """Whether the message (as the tap saw it) shows other buttons than `keyboard`.

    Editing a message to the buttons it already shows can only fail (Telegram answers 400
    "message is not modified"), e.g. on a second tap of an already decided draft.
    """
    current = message.reply_markup
    shown = current if current is not None and current.inline_keyboard else None
    wanted = keyboard if keyboard is not None and keyboard.inline_keyboard else None
    return shown != wanted


async def _redraw_markup(message: Message, keyboard: object) -> None:
    try:
        await message.edit_reply_markup(reply_markup=keyboard)  # type: ignore[arg-type]
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            log.info("could not update buttons", extra={"error": str(exc)})


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A plain message: feedback for the draft being revised, or a nudge to /help."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not message.text:
        return
    rt = runtime(context)
    piece_id: uuid.UUID | None = None
    version: int | None = None
    replied = message.reply_to_message
    async with rt.database.unit_of_work() as session:
        if replied is not None:
            found = await content_repo.find_by_message(session, message.chat.id, replied.message_id)
            if found is not None:
                piece_id, version = found
        accepted = await approval.submit_feedback(
            await session.connection(),
            telegram_user_id=user.id,
            text=message.text,
            piece_id=piece_id,
            version=version,
        )
    if accepted is None:
        await message.reply_text(
            "I read messages only as feedback after you tap ✏️ Revise on a draft. "
            "See /help for what I can do."
        )
        return
    await message.reply_text("👍 Got it — rewriting the draft now.")
    if rt.draft_maker is not None:
        context.application.create_task(rt.draft_maker.rewrite(accepted.piece_id), update=update)


async def drafts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/drafts: send again every draft waiting for the agent."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    rt = runtime(context)
    async with rt.database.unit_of_work() as session:
        agent = await agents_repo.get_agent_by_telegram_user(session, user.id)
    if agent is None or not agent.is_active:
        await message.reply_text(STRANGER)
        return
    count = await delivery.resend_drafts(rt.database, rt.notifier, telegram_user_id=user.id)
    if count == 0:
        await message.reply_text("No drafts are waiting for you right now. 🎉")
