"""How every handler in bot/handlers receives an update and answers it.

`@handles_message` (commands, texts) and `@handles_button(actions…)` (taps) unpack the
update into a `Command` or a `Tap` (user, message, query, verified button data, runtime),
so a handler holds only its service call and what to show. Around it, the kit:

- answers every tap exactly once (an empty answer ends the spinner when the handler
  gave none; "Sorry…" when it failed unexpectedly, before the error handler reports it);
- turns a `ServiceError` into its one sentence (a reply, or the tap's answer);
- turns a database that cannot be reached in time (`DatabaseUnavailableError`, raised by
  `Database.tap()`) into "Try again in a moment" without alerting anyone;
- refuses buttons this bot did not sign, or of another action, with "not valid";
- refuses admin commands to anyone not in TELEGRAM_ADMIN_IDS (`admin=True`);
- with `stop=True`, stops the update there (`ApplicationHandlerStop`), for the handlers
  in groups ahead of the catch-all feedback handler.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Message, Update, User
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.callback_data import Action, CallbackData, ForgedCallback
from bot.render import escape, fit_answer
from bot.runtime import Runtime, runtime
from db.errors import DatabaseUnavailableError
from services import metrics
from services.errors import ServiceError

log = logging.getLogger(__name__)

PTBHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

INVALID_BUTTON = "This button is not valid."
NOT_ADMIN = "This command is for administrators."
DATABASE_DOWN = "I can't reach my database right now. Try again in a moment."
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."


@dataclass(slots=True, eq=False)
class Command:
    """A message to the bot (a command or a text), from a known user."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    rt: Runtime
    user: User
    message: Message

    @property
    def args(self) -> list[str]:
        """The words after the command (empty for a plain text)."""
        return self.context.args or []

    async def reply(self, html: str, **kwargs: Any) -> Message:
        """Reply in the chat the message came from."""
        return await self.message.reply_text(html, **kwargs)


@dataclass(slots=True, eq=False)
class Tap:
    """A tap on one of this bot's buttons, its data verified."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    rt: Runtime
    user: User
    query: CallbackQuery
    data: CallbackData
    # The message the button sits on; None when Telegram no longer shows it to the bot.
    message: Message | None
    answered: bool = False

    async def answer(self, text: str = "", *, alert: bool = False) -> None:
        """Answer the tap; only the first call sends anything.

        Telegram refuses answers to taps it considers too old; the message edit still
        shows the outcome, so that refusal is logged and is no error.
        """
        if not self.answered:
            self.answered = True
            await _answer(self.query, text, alert)


async def _answer(query: CallbackQuery, text: str, alert: bool = False) -> None:
    try:
        if text or alert:
            await query.answer(fit_answer(text), show_alert=alert)
        else:
            await query.answer()
    except BadRequest as exc:
        log.info("could not answer tap", extra={"error": str(exc)})


def handles_message(
    *, admin: bool = False, stop: bool = False
) -> Callable[[Callable[[Command], Awaitable[None]]], PTBHandler]:
    """Decorate a message handler `async def h(c: Command) -> None` for PTB."""

    def decorate(handler: Callable[[Command], Awaitable[None]]) -> PTBHandler:
        @functools.wraps(handler)
        async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message, user = update.effective_message, update.effective_user
            if message is not None and user is not None:
                await _run_command(
                    handler, Command(update, context, runtime(context), user, message), admin
                )
            if stop:
                raise ApplicationHandlerStop

        return wrapper

    return decorate


async def _run_command(
    handler: Callable[[Command], Awaitable[None]], c: Command, admin: bool
) -> None:
    if admin and not c.rt.is_admin(c.user.id):
        log.info("admin command refused", extra={"telegram_user_id": c.user.id})
        await c.reply(NOT_ADMIN)
        return
    try:
        await handler(c)
    except ServiceError as exc:
        log.info("command refused", extra={"reason": type(exc).__name__})
        await c.reply(escape(exc.message))
    except DatabaseUnavailableError:
        log.warning("command refused: database unavailable")
        await c.reply(DATABASE_DOWN)


@dataclass(frozen=True, slots=True)
class _ButtonRules:
    accepted: frozenset[Action]
    alert_errors: bool
    counted: bool


def handles_button(
    *actions: Action, stop: bool = False, alert_errors: bool = False, counted: bool = False
) -> Callable[[Callable[[Tap], Awaitable[None]]], PTBHandler]:
    """Decorate a button handler `async def h(t: Tap) -> None` for PTB.

    Only buttons of `actions` reach it. `alert_errors` shows a `ServiceError` as a popup;
    `counted` times the tap and counts refusals in the draft tap metrics.
    """
    rules = _ButtonRules(frozenset(actions), alert_errors, counted)

    def decorate(handler: Callable[[Tap], Awaitable[None]]) -> PTBHandler:
        @functools.wraps(handler)
        async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            query = update.callback_query
            if query is not None and query.from_user is not None:
                await _run_tap(handler, update, context, query, query.from_user, rules)
            if stop:
                raise ApplicationHandlerStop

        return metrics.timed_tap(wrapper) if counted else wrapper

    return decorate


async def _run_tap(
    handler: Callable[[Tap], Awaitable[None]],
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    query: CallbackQuery,
    user: User,
    rules: _ButtonRules,
) -> None:
    rt = runtime(context)
    try:
        data: CallbackData | None = rt.signer.decode(query.data)
    except ForgedCallback:
        data = None
    message = query.message if isinstance(query.message, Message) else None
    if data is None or data.action not in rules.accepted:
        log.warning("refused forged callback", extra={"telegram_user_id": user.id})
        if rules.counted:
            metrics.record_tap("invalid", "forged")
        await _answer(query, INVALID_BUTTON)
        return
    tap = Tap(update, context, rt, user, query, data, message)
    try:
        await handler(tap)
    except ServiceError as exc:
        log.info("tap refused", extra={"reason": type(exc).__name__, "error": exc.message})
        await tap.answer(exc.message, alert=rules.alert_errors)
    except DatabaseUnavailableError:
        # Answered within seconds all the same; the jobs' errors tell the admins.
        log.warning("tap refused: database unavailable", extra={"action": data.action.name})
        if rules.counted:
            metrics.record_tap(data.action.name.lower(), "database_unavailable")
        await tap.answer(DATABASE_DOWN)
    except ApplicationHandlerStop:
        await tap.answer()
        raise
    except Exception:
        # The error handler logs and alerts; the agent's spinner ends here.
        with contextlib.suppress(TelegramError):
            await tap.answer(SORRY)
        raise
    else:
        await tap.answer()
