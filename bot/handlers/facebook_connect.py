"""Connect with Facebook in Telegram: the link button of /connect, and the Page pick.

Used when FACEBOOK_APP_ID/SECRET are set; /connect falls back to pasted tokens otherwise.
"""

from __future__ import annotations

import logging
import uuid

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.app_type import App
from bot.callback_data import Action, pattern
from bot.handler_kit import Command, Tap, handles_button
from bot.jobs.publish_job import graph
from bot.render import bold, escape
from services import facebook_login, social_accounts
from services.facebook_login import FacebookApp

log = logging.getLogger(__name__)

GROUP = -1
# Set by the process that serves the callback (rltr_mktg/process.py).
FACEBOOK_APP_KEY = "facebook_app"


def register(app: App) -> None:
    """Add the Page pick buttons."""
    app.add_handler(
        CallbackQueryHandler(on_page_button, pattern=pattern(Action.FACEBOOK_PAGE)), group=GROUP
    )


def facebook_app(context: ContextTypes.DEFAULT_TYPE) -> FacebookApp | None:
    """The configured Meta app, or None (manual tokens only)."""
    found = context.application.bot_data.get(FACEBOOK_APP_KEY)
    return found if isinstance(found, FacebookApp) else None


async def offer_login(c: Command, app: FacebookApp, agent_id: uuid.UUID) -> None:
    """Reply with a Connect with Facebook button holding a fresh single-use link."""
    url = await facebook_login.start_login(c.rt.database, app, agent_id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Connect with Facebook", url=url)]])
    await c.reply(
        "Tap the button, sign in to Facebook and allow access to your Page and its Instagram "
        "account; then come back here to pick the Page. The link works once, for 15 minutes.",
        reply_markup=keyboard,
    )


@handles_button(Action.FACEBOOK_PAGE, stop=True, alert_errors=True)
async def on_page_button(t: Tap) -> None:
    """A Page picked: connect it (and its Instagram account), then say what was connected."""
    agent = await t.rt.database.run(social_accounts.agent_for_telegram_user, t.user.id)
    picked = await facebook_login.pick_page(
        t.rt.database, graph(t.rt).client, agent_id=agent.id, offer_id=t.data.entity_id
    )
    await t.answer("Connected.")
    names = " and ".join(
        f"{done.account.service} {bold(done.account.display_name)}" for done in picked.connected
    )
    text = f"✅ Connected {names}. Posts you approve will be published there."
    if picked.instagram_problem:
        text += f"\n\n⚠️ Its Instagram account was not connected: {escape(picked.instagram_problem)}"
    try:
        if t.message is None:
            raise BadRequest("no message to edit")
        await t.message.edit_text(text, reply_markup=None)
    except BadRequest as exc:
        # Too old to edit, or deleted: say it in a new message instead.
        log.info("could not edit the page choice", extra={"error": str(exc)})
        await t.context.bot.send_message(t.user.id, text)
