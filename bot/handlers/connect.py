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

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app_type import App
from bot.callback_data import Action, CallbackSigner, pattern
from bot.edits import redraw
from bot.handler_kit import INVALID_BUTTON, Command, Tap, handles_button, handles_message
from bot.handlers.facebook_connect import facebook_app, offer_login
from bot.jobs.publish_job import graph
from bot.render import bold, code, escape, fit_text
from bot.runtime import Runtime
from services import social_accounts
from services.errors import ServiceError
from services.publishing import Platform
from services.social_accounts import AccountSummary, AgentAccounts, Disconnected

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


@handles_message(stop=True)
async def connect_command(c: Command) -> None:
    """/connect: the Connect with Facebook link when an app is configured, else choose the
    platform and paste a token."""
    agent = await c.rt.database.run(social_accounts.agent_for_telegram_user, c.user.id)
    app = facebook_app(c.context)
    if app is not None:
        await offer_login(c, app, agent.id)
        return
    signer = c.rt.signer
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Facebook Page", callback_data=signer.encode(Action.CONNECT, agent.id, 0, "fb")
                ),
                InlineKeyboardButton(
                    "Instagram", callback_data=signer.encode(Action.CONNECT, agent.id, 0, "ig")
                ),
            ]
        ]
    )
    await c.reply(
        "Which account do you want to connect?\n\n"
        "You need its id and an access token that can publish (pages_manage_posts for a "
        "Page, instagram_content_publish for Instagram). I delete the message holding your "
        "token as soon as I have read it.",
        reply_markup=keyboard,
    )


@handles_button(Action.CONNECT, stop=True)
async def on_connect_button(t: Tap) -> None:
    """Facebook or Instagram chosen: ask for "<id> <token>" in one reply."""
    platform = PLATFORM_EXTRA.get(t.data.extra)
    if platform is None:
        await t.answer(INVALID_BUTTON)
        return
    agent = await t.rt.database.run(social_accounts.agent_for_telegram_user, t.user.id)
    if agent.id != t.data.entity_id:
        await t.answer("This button is not for you.")
        return
    await t.answer()
    chat_id = t.message.chat.id if t.message is not None else t.user.id
    await _send_prompt(t.context, chat_id, platform)


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


@handles_message()
async def on_credentials_reply(c: Command) -> None:
    """A reply to a /connect prompt: delete it, validate, store, say what happened."""
    message, context = c.message, c.context
    platform = prompt_platform(message, context.bot.id)
    if platform is None:
        return  # not ours: the feedback handler reads it
    text = message.text or ""
    deleted = await _delete(message)
    try:
        await _connect_from_reply(c, platform, text, deleted)
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


async def _connect_from_reply(c: Command, platform: Platform, text: str, deleted: bool) -> None:
    rt, context = c.rt, c.context
    chat_id = c.message.chat.id
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
        agent = await rt.database.run(social_accounts.agent_for_telegram_user, c.user.id)
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


@handles_message(stop=True)
async def accounts_command(c: Command) -> None:
    """/accounts: the agent's accounts with a Disconnect button each."""
    mine = await c.rt.database.run(social_accounts.accounts_of_telegram_user, c.user.id)
    text, keyboard = _accounts_view(c.rt, mine)
    await c.reply(text, reply_markup=keyboard)


def _accounts_view(rt: Runtime, mine: AgentAccounts) -> tuple[str, InlineKeyboardMarkup | None]:
    if not mine.accounts:
        return (
            "No accounts are connected yet. Use /connect to add your Facebook Page or "
            "Instagram account.",
            None,
        )
    timezone = mine.timezone or rt.settings.default_timezone
    lines = [bold("Your accounts")]
    rows: list[list[InlineKeyboardButton]] = []
    for acc in mine.accounts:
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


@handles_button(Action.DISCONNECT, stop=True, alert_errors=True)
async def on_disconnect_button(t: Tap) -> None:
    """Disconnect: ask to confirm, then turn the account off (or keep it) and redraw."""
    extra = t.data.extra
    if extra not in ("", CONFIRM, KEEP):
        await t.answer(INVALID_BUTTON)
    elif extra == "":
        await t.answer()
        if t.message is not None:
            await redraw(t.message, None, _confirm_keyboard(t.rt.signer, t.data.entity_id))
    else:
        done = await social_accounts.answer_disconnect(
            t.rt.database,
            telegram_user_id=t.user.id,
            account_pk=t.data.entity_id,
            confirmed=extra == CONFIRM,
        )
        await t.answer(_disconnect_words(done.disconnected))
        if t.message is not None:
            await redraw(t.message, *_accounts_view(t.rt, done.accounts))


def _disconnect_words(gone: Disconnected | None) -> str:
    if gone is None:
        return "Kept."
    cancelled = (
        f" {gone.cancelled_posts} scheduled post(s) to it were cancelled."
        if gone.cancelled_posts
        else ""
    )
    return f"Disconnected {gone.account.service} {gone.account.display_name}.{cancelled}"


def _confirm_keyboard(signer: CallbackSigner, account_pk: uuid.UUID) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Yes, disconnect",
                    callback_data=signer.encode(Action.DISCONNECT, account_pk, 0, CONFIRM),
                ),
                InlineKeyboardButton(
                    "Keep it", callback_data=signer.encode(Action.DISCONNECT, account_pk, 0, KEEP)
                ),
            ]
        ]
    )
