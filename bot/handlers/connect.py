"""/connect (guided, no state in memory), /accounts and the Disconnect buttons.

With FACEBOOK_APP_ID/SECRET set, /connect offers Connect with Facebook instead
(bot/handlers/facebook_connect.py); what follows is the manual fallback.

/connect shows Facebook / Instagram buttons; a tap asks, with a ForceReply prompt, for
"<account id> <token>" in one message. The reply is recognised by the prompt it answers
(so a restart loses nothing), deleted at once, validated and stored. These handlers sit
in group -1, ahead of the feedback handler, and stop further handling of what they consume.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from zoneinfo import ZoneInfo

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app_type import App
from bot.callback_data import Action, CallbackData, ForgedCallback, pattern
from bot.handlers.facebook_connect import facebook_app, offer_login
from bot.jobs.publish_job import graph
from bot.render import bold, code, escape, fit_answer, fit_text
from bot.runtime import Runtime, runtime
from services import social_accounts
from services.errors import ServiceError
from services.publishing import Platform
from services.social_accounts import AccountSummary

log = logging.getLogger(__name__)

GROUP = -1
PLATFORM_EXTRA: dict[str, Platform] = {"fb": "facebook", "ig": "instagram"}
# The first line of each prompt: how a reply is matched to its platform.
PROMPT_TITLES: dict[Platform, str] = {
    "facebook": "🔗 Connect a Facebook Page",
    "instagram": "🔗 Connect an Instagram account",
}
_ID_HELP: dict[Platform, tuple[str, str]] = {
    "facebook": ("the Page id", "104857392018374 EAAG…"),
    "instagram": ("the Instagram account id (not the @username)", "17841400000000000 EAAG…"),
}
CONFIRM, KEEP = "y", "n"


def register(app: App) -> None:
    """Add /connect, /accounts, their buttons and the credentials reply handler."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("connect", connect_command, filters=private), group=GROUP)
    app.add_handler(CommandHandler("accounts", accounts_command, filters=private), group=GROUP)
    app.add_handler(
        CallbackQueryHandler(on_connect_button, pattern=pattern(Action.CONNECT)), group=GROUP
    )
    app.add_handler(
        CallbackQueryHandler(on_disconnect_button, pattern=pattern(Action.DISCONNECT)),
        group=GROUP,
    )
    app.add_handler(
        MessageHandler(
            private & filters.TEXT & filters.REPLY & ~filters.COMMAND, on_credentials_reply
        ),
        group=GROUP,
    )


def _decode(rt: Runtime, data: str | None) -> CallbackData | None:
    try:
        return rt.signer.decode(data or "")
    except ForgedCallback:
        return None


async def connect_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/connect: the Connect with Facebook link when an app is configured, else choose the
    platform and paste a token."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    rt = runtime(context)
    try:
        async with rt.database.unit_of_work() as session:
            agent = await social_accounts.agent_for_telegram_user(session, user.id)
    except ServiceError as exc:
        await message.reply_text(escape(exc.message))
        raise ApplicationHandlerStop from None
    app = facebook_app(context)
    if app is not None:
        await offer_login(context, message, app, agent)
        raise ApplicationHandlerStop
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Facebook Page",
                    callback_data=rt.signer.encode(Action.CONNECT, agent.id, 0, "fb"),
                ),
                InlineKeyboardButton(
                    "Instagram", callback_data=rt.signer.encode(Action.CONNECT, agent.id, 0, "ig")
                ),
            ]
        ]
    )
    await message.reply_text(
        "Which account do you want to connect?\n\n"
        "You need its id and an access token that can publish (pages_manage_posts for a "
        "Page, instagram_content_publish for Instagram). I delete the message holding your "
        "token as soon as I have read it.",
        reply_markup=keyboard,
    )
    raise ApplicationHandlerStop


async def on_connect_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Facebook or Instagram chosen: ask for "<id> <token>" in one reply."""
    query = update.callback_query
    if query is None or query.from_user is None:
        raise ApplicationHandlerStop
    rt = runtime(context)
    data = _decode(rt, query.data)
    platform = PLATFORM_EXTRA.get(data.extra) if data is not None else None
    if data is None or platform is None:
        await query.answer("This button is not valid.")
        raise ApplicationHandlerStop
    try:
        async with rt.database.unit_of_work() as session:
            agent = await social_accounts.agent_for_telegram_user(session, query.from_user.id)
    except ServiceError as exc:
        await query.answer(fit_answer(exc.message))
        raise ApplicationHandlerStop from None
    if agent.id != data.entity_id:
        await query.answer("This button is not for you.")
        raise ApplicationHandlerStop
    await query.answer()
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    await _send_prompt(context, chat_id, platform)
    raise ApplicationHandlerStop


async def _send_prompt(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, platform: Platform
) -> None:
    what, example = _ID_HELP[platform]
    await context.bot.send_message(
        chat_id,
        f"{PROMPT_TITLES[platform]}\n\n"
        f"Reply to this message with {escape(what)} and the access token, separated by a "
        f"space, for example:\n{code(example)}\n\n"
        "I delete your reply as soon as I have read it.",
        reply_markup=ForceReply(selective=True, input_field_placeholder="<account id> <token>"),
    )


def prompt_platform(message: Message, bot_id: int) -> Platform | None:
    """The platform whose /connect prompt `message` replies to, or None."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return None
    first_line = (replied.text or "").split("\n", 1)[0].strip()
    for platform, title in PROMPT_TITLES.items():
        if first_line == title:
            return platform
    return None


async def on_credentials_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a /connect prompt: delete it, validate, store, say what happened."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    platform = prompt_platform(message, context.bot.id)
    if platform is None:
        return  # not ours: the feedback handler reads it
    text = message.text or ""
    deleted = await _delete(message)
    try:
        await _connect_from_reply(context, message, user.id, platform, text, deleted)
    except Exception:
        # The message is consumed either way; it must not reach the feedback handler.
        log.exception("connect from reply failed")
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(
                message.chat.id,
                "Sorry, something went wrong while connecting; please try /connect again.",
            )
    raise ApplicationHandlerStop


async def _delete(message: Message) -> bool:
    try:
        return bool(await message.delete())
    except TelegramError as exc:
        log.warning("could not delete the message holding a token", extra={"error": str(exc)})
        return False


async def _connect_from_reply(
    context: ContextTypes.DEFAULT_TYPE,
    message: Message,
    telegram_user_id: int,
    platform: Platform,
    text: str,
    deleted: bool,
) -> None:
    rt = runtime(context)
    chat_id = message.chat.id
    note = (
        ""
        if deleted
        else "\n\n⚠️ I could not delete your message; please delete it yourself, it holds a token."
    )
    parts = text.split()
    if len(parts) != 2:
        await context.bot.send_message(
            chat_id,
            "I need exactly two things separated by a space: the account id, then the token; "
            "please reply to the new prompt below." + note,
        )
        await _send_prompt(context, chat_id, platform)
        return
    account_id, token = parts
    try:
        async with rt.database.unit_of_work() as session:
            agent = await social_accounts.agent_for_telegram_user(session, telegram_user_id)
        done = await social_accounts.connect(
            rt.database,
            graph(rt).client,
            agent_id=agent.id,
            platform=platform,
            account_id=account_id,
            token=token,
        )
    except ServiceError as exc:
        await context.bot.send_message(chat_id, "❌ " + escape(exc.message) + note)
        await _send_prompt(context, chat_id, platform)
        return
    acc = done.account
    verb = "Reconnected" if done.reconnected else "Connected"
    tz = agent.timezone or rt.settings.default_timezone
    await context.bot.send_message(
        chat_id,
        f"✅ {verb} {acc.service} {bold(acc.display_name)}. Posts you approve will be published "
        f"there.\n{_expiry_words(acc, tz)}" + note,
    )


def _expiry_words(acc: AccountSummary, timezone: str) -> str:
    if acc.token_expires_at is None:
        return "The token does not expire."
    local = acc.token_expires_at.astimezone(ZoneInfo(timezone))
    return (
        f"The token expires on {local:%b} {local.day}, {local.year}; I will remind you a week "
        "before."
    )


async def accounts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/accounts: the agent's accounts with a Disconnect button each."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    rt = runtime(context)
    try:
        async with rt.database.unit_of_work() as session:
            agent = await social_accounts.agent_for_telegram_user(session, user.id)
            listed = await social_accounts.list_accounts(session, agent.id)
    except ServiceError as exc:
        await message.reply_text(escape(exc.message))
        raise ApplicationHandlerStop from None
    text, keyboard = _accounts_view(rt, listed, agent.timezone or rt.settings.default_timezone)
    await message.reply_text(text, reply_markup=keyboard)
    raise ApplicationHandlerStop


def _accounts_view(
    rt: Runtime, listed: list[AccountSummary], timezone: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not listed:
        return (
            "No accounts are connected yet. Use /connect to add your Facebook Page or "
            "Instagram account.",
            None,
        )
    lines = [bold("Your accounts")]
    rows: list[list[InlineKeyboardButton]] = []
    for acc in listed:
        lines.append("")
        lines.append(f"{acc.service}: {bold(acc.display_name)} ({escape(acc.account_id)})")
        if acc.is_active:
            lines.append("✅ Active. " + _expiry_words(acc, timezone))
            rows.append(
                [
                    InlineKeyboardButton(
                        f"Disconnect {acc.service} {acc.display_name}"[:60],
                        callback_data=rt.signer.encode(Action.DISCONNECT, acc.id),
                    )
                ]
            )
        else:
            reason = (acc.deactivated_reason or "").strip()
            lines.append(
                "⛔ Off" + (f": {escape(reason)}" if reason else ".") + " Reconnect with /connect."
            )
    return fit_text("\n".join(lines)), (InlineKeyboardMarkup(rows) if rows else None)


async def on_disconnect_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Disconnect: ask to confirm, then turn the account off and redraw the list."""
    query = update.callback_query
    if query is None or query.from_user is None:
        raise ApplicationHandlerStop
    rt = runtime(context)
    data = _decode(rt, query.data)
    if data is None or data.extra not in ("", CONFIRM, KEEP):
        await query.answer("This button is not valid.")
        raise ApplicationHandlerStop
    message = query.message if isinstance(query.message, Message) else None
    if data.extra == "":
        await query.answer()
        if message is not None:
            await _edit_markup(message, _confirm_keyboard(rt, data.entity_id))
        raise ApplicationHandlerStop
    answer = "Kept."
    try:
        async with rt.database.unit_of_work() as session:
            agent = await social_accounts.agent_for_telegram_user(session, query.from_user.id)
            if data.extra == CONFIRM:
                gone = await social_accounts.disconnect(
                    session, agent_id=agent.id, account_pk=data.entity_id
                )
                answer = f"Disconnected {gone.account.service} {gone.account.display_name}." + (
                    f" {gone.cancelled_posts} scheduled post(s) to it were cancelled."
                    if gone.cancelled_posts
                    else ""
                )
            listed = await social_accounts.list_accounts(session, agent.id)
    except ServiceError as exc:
        await query.answer(fit_answer(exc.message), show_alert=True)
        raise ApplicationHandlerStop from None
    await query.answer(fit_answer(answer))
    if message is not None:
        text, keyboard = _accounts_view(rt, listed, agent.timezone or rt.settings.default_timezone)
        try:
            await message.edit_text(text, reply_markup=keyboard)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.info("could not redraw /accounts", extra={"error": str(exc)})
    raise ApplicationHandlerStop


def _confirm_keyboard(rt: Runtime, account_pk: uuid.UUID) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Yes, disconnect",
                    callback_data=rt.signer.encode(Action.DISCONNECT, account_pk, 0, CONFIRM),
                ),
                InlineKeyboardButton(
                    "Keep it",
                    callback_data=rt.signer.encode(Action.DISCONNECT, account_pk, 0, KEEP),
                ),
            ]
        ]
    )


async def _edit_markup(message: Message, keyboard: InlineKeyboardMarkup) -> None:
    try:
        await message.edit_reply_markup(reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            log.info("could not show the confirmation", extra={"error": str(exc)})
