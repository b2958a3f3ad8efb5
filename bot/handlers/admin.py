"""Admin commands: onboarding and the publishing kill switch."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.render import bold, code, escape
from bot.runtime import runtime
from db.repositories import app_state
from services.errors import ServiceError
from services.onboarding import add_agent, invite_link

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
NOT_ADMIN = "This command is for administrators."


def admin_only(handler: Handler) -> Handler:
    """Refuse the command politely unless the user is in TELEGRAM_ADMIN_IDS."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        if not runtime(context).is_admin(user.id):
            log.info("admin command refused", extra={"telegram_user_id": user.id})
            await message.reply_text(NOT_ADMIN)
            return
        await handler(update, context)

    return wrapper


@admin_only
async def addagent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addagent <email> <full name>: create the agent, reply with the invite link."""
    message = update.effective_message
    assert message is not None
    args = context.args or []
    if len(args) < 2:
        await message.reply_text(
            "Usage: /addagent &lt;email&gt; &lt;full name&gt;, e.g. "
            + code("/addagent chris@example.com Chris Doe")
        )
        return
    rt = runtime(context)
    try:
        async with rt.database.unit_of_work() as session:
            new = await add_agent(session, email=args[0], name=" ".join(args[1:]))
    except ServiceError as exc:
        await message.reply_text(escape(exc.message))
        return
    link = invite_link(rt.bot_username, new.invite_token)
    await message.reply_text(
        f"Agent {bold(new.agent.name)} ({escape(new.agent.email)}) created.\n"
        f"Send them this link (single use, valid 7 days):\n{escape(link)}"
    )


@admin_only
async def pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pause: stop all publishing at once (scheduled posts wait)."""
    message = update.effective_message
    assert message is not None
    async with runtime(context).database.unit_of_work() as session:
        await app_state.set_value(session, app_state.PUBLISHING_PAUSED, True)
    await message.reply_text(
        "⏸ Publishing is paused. Scheduled posts will wait. /resume to restart."
    )


@admin_only
async def resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resume: publishing runs again."""
    message = update.effective_message
    assert message is not None
    async with runtime(context).database.unit_of_work() as session:
        await app_state.set_value(session, app_state.PUBLISHING_PAUSED, False)
    await message.reply_text("▶️ Publishing is running again.")
