"""Connect with Facebook in Telegram: the link button of /connect, and the Page pick.

Used when FACEBOOK_APP_ID/SECRET are set; /connect falls back to pasted tokens otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, ContextTypes

from bot.callback_data import Action, ForgedCallback, pattern
from bot.jobs.publish_job import graph
from bot.render import bold, escape, fit_answer
from bot.runtime import runtime
from db.models import Agent
from services import facebook_login, social_accounts
from services.errors import ServiceError
from services.facebook_login import FacebookApp

log = logging.getLogger(__name__)

GROUP = -1
# Set by the process that serves the callback (rltr_mktg/process.py).
FACEBOOK_APP_KEY = "facebook_app"


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the Page pick buttons."""
    app.add_handler(
        CallbackQueryHandler(on_page_button, pattern=pattern(Action.FACEBOOK_PAGE)), group=GROUP
    )


def facebook_app(context: ContextTypes.DEFAULT_TYPE) -> FacebookApp | None:
    """The configured Meta app, or None (manual tokens only)."""
    found = context.application.bot_data.get(FACEBOOK_APP_KEY)
    return found if isinstance(found, FacebookApp) else None


async def offer_login(
    context: ContextTypes.DEFAULT_TYPE, message: Message, app: FacebookApp, agent: Agent
) -> None:
    """Reply with a Connect with Facebook button holding a fresh single-use link."""
    url = await facebook_login.start_login(runtime(context).database, app, agent.id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Connect with Facebook", url=url)]])
    await message.reply_text(
        "Tap the button, sign in to Facebook and allow access to your Page and its Instagram "
        "account; then come back here to pick the Page. The link works once, for 15 minutes.",
        reply_markup=keyboard,
    )


async def on_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A Page picked: connect it (and its Instagram account), then say what was connected."""
    query = update.callback_query
    if query is None or query.from_user is None:
        raise ApplicationHandlerStop
    rt = runtime(context)
    try:
        data = rt.signer.decode(query.data or "")
    except ForgedCallback:
        await query.answer("This button is not valid.")
        raise ApplicationHandlerStop from None
    try:
        async with rt.database.unit_of_work() as session:
            agent = await social_accounts.agent_for_telegram_user(session, query.from_user.id)
        picked = await facebook_login.pick_page(
            rt.database, graph(rt).client, agent_id=agent.id, offer_id=data.entity_id
        )
    except ServiceError as exc:
        await query.answer(fit_answer(exc.message), show_alert=True)
        raise ApplicationHandlerStop from None
    await query.answer("Connected.")
    names = " and ".join(
        f"{done.account.service} {bold(done.account.display_name)}" for done in picked.connected
    )
    text = f"✅ Connected {names}. Posts you approve will be published there."
    if picked.instagram_problem:
        text += f"\n\n⚠️ Its Instagram account was not connected: {escape(picked.instagram_problem)}"
    message = query.message if isinstance(query.message, Message) else None
    try:
        if message is None:
            raise BadRequest("no message to edit")
        await message.edit_text(text, reply_markup=None)
    except BadRequest as exc:
        # Too old to edit, or deleted: say it in a new message instead.
        log.info("could not edit the page choice", extra={"error": str(exc)})
        await context.bot.send_message(query.from_user.id, text)
    raise ApplicationHandlerStop
