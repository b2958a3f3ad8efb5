"""/start (invite links) and /help."""

from __future__ import annotations

import logging

from bot.handler_kit import Command, handles_message
from bot.render import bold, escape
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


@handles_message()
async def start(c: Command) -> None:
    """Link an agent from an invite link, greet a linked agent, or turn a stranger away."""
    user, chat_id = c.user, c.message.chat.id
    token = c.args[0] if c.args else None
    if token:
        linked = await c.rt.database.run(
            redeem_invite, token=token, telegram_user_id=user.id, chat_id=chat_id
        )
        log.info("agent linked", extra={"telegram_user_id": user.id})
        await c.reply(
            f"Welcome, {escape(linked.agent.name)}! 🎉 Your Telegram is linked. New drafts "
            "will arrive here.\n\n" + AGENT_HELP
        )
        return
    agent = await c.rt.database.run(welcome_back, telegram_user_id=user.id, chat_id=chat_id)
    if agent is not None and agent.name:
        await c.reply(f"Welcome back, {escape(agent.name)}.\n\n" + AGENT_HELP)
    elif c.rt.is_admin(user.id):
        await c.reply("Hello, admin.\n\n" + ADMIN_HELP)
    else:
        log.info("stranger said /start", extra={"telegram_user_id": user.id})
        await c.reply(STRANGER)


@handles_message()
async def help_command(c: Command) -> None:
    """Commands for agents, and for admins theirs too."""
    text = AGENT_HELP
    if c.rt.is_admin(c.user.id):
        text += "\n\n" + ADMIN_HELP
    await c.reply(text)
