"""/start (invite links) and /help."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.render import bold, escape
from bot.runtime import runtime
from services.errors import ServiceError
from services.onboarding import redeem_invite, welcome_back

log = logging.getLogger(__name__)

STRANGER = (
    "Hello! This bot is a private marketing assistant for real estate agents. "
    "Please ask your administrator for an invite link."
)

AGENT_HELP = "\n".join(
    [
        bold("What I do"),
        "When a new home, a price change, a home now selling, sold or back on the market "
        "appears on the builder's site, I write a post and send it here. Tap ✅ Approve to "
        "schedule it, ✏️ Revise and tell me what to change, or ❌ Reject. Every Monday "
        "morning you get a digest of last week's posts.",
        "",
        bold("Commands"),
        "/drafts – send again the drafts waiting for you",
        "/schedule – what is scheduled to post",
        "/listings – the homes assigned to you",
        "/notifications – unread notifications",
        "/settings – notifications, posting times, quiet hours",
        "/license – your license number, named in every post and flyer",
        "/reminders – when an unanswered draft gets its reminder",
        "/connect – connect your Facebook Page or Instagram account",
        "/accounts – your connected accounts",
        "/dashboard – a sign-in link to the web dashboard",
        "/help – this message",
    ]
)

ADMIN_HELP = "\n".join(
    [
        bold("Admin commands"),
        "/addagent &lt;email&gt; &lt;full name&gt; – create an agent and an invite link",
        "/agents – agents and their status",
        "/areas &lt;email&gt; city:Ocala community:Marion Oaks – set service areas",
        "/marketing &lt;email&gt; on|off – require marketing sign-off",
        "/setlicense &lt;email&gt; &lt;number&gt;|off – an agent's license number",
        "/scrape – check the builder's site now",
        "/stats – numbers at a glance",
        "/failed – posts that failed",
        "/pause and /resume – stop or restart all publishing",
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link an agent from an invite link, greet a linked agent, or turn a stranger away."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None or message is None:
        return
    rt = runtime(context)
    token = context.args[0] if context.args else None
    try:
        async with rt.database.unit_of_work() as session:
            if token:
                linked = await redeem_invite(
                    session, token=token, telegram_user_id=user.id, chat_id=chat.id
                )
                name = linked.agent.name
            else:
                agent = await welcome_back(session, telegram_user_id=user.id, chat_id=chat.id)
                name = agent.name if agent else ""
    except ServiceError as exc:
        log.info("invite refused", extra={"telegram_user_id": user.id})
        await message.reply_text(escape(exc.message))
        return
    if token:
        log.info("agent linked", extra={"telegram_user_id": user.id})
        await message.reply_text(
            f"Welcome, {escape(name)}! 🎉 Your Telegram is linked. New drafts will arrive "
            "here.\n\n" + AGENT_HELP
        )
    elif name:
        await message.reply_text(f"Welcome back, {escape(name)}.\n\n" + AGENT_HELP)
    elif rt.is_admin(user.id):
        await message.reply_text("Hello, admin.\n\n" + ADMIN_HELP)
    else:
        log.info("stranger said /start", extra={"telegram_user_id": user.id})
        await message.reply_text(STRANGER)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands for agents, and for admins theirs too."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    text = AGENT_HELP
    if runtime(context).is_admin(user.id):
        text += "\n\n" + ADMIN_HELP
    await message.reply_text(text)
