"""/dashboard: a single-use, 15-minute sign-in link to the web dashboard."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.render import code, escape, link
from bot.runtime import runtime
from db.base import utcnow
from services.dashboard_auth import issue_login_link
from services.errors import ServiceError

log = logging.getLogger(__name__)

# Where the web server is reached; set by the process once it listens (WEB_PORT=0 picks one).
DASHBOARD_URL_KEY = "dashboard_url"
# `token=` in a URL is masked in every log line (services.redaction), PTB's DEBUG lines of
# the sendMessage carrying the link included.
LINK_PATH = "/login/link"


async def dashboard_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a linked agent (or an admin) a sign-in link for the dashboard."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    rt = runtime(context)
    try:
        async with rt.database.unit_of_work() as session:
            token = await issue_login_link(
                session, telegram_user_id=user.id, is_admin=rt.is_admin(user.id), now=utcnow()
            )
    except ServiceError as exc:
        log.info("dashboard link refused", extra={"telegram_user_id": user.id})
        await message.reply_text(escape(exc.message))
        return
    base = str(context.application.bot_data.get(DASHBOARD_URL_KEY) or "")
    url = f"{base or rt.settings.public_base_url()}{LINK_PATH}?token={token}"
    log.info("dashboard link sent", extra={"telegram_user_id": user.id})
    await message.reply_text(
        f"🖥 {link('Open the dashboard', url)}\n"
        "The link signs you in once and works for 15 minutes. To open it on another "
        f"device, copy it:\n{code(url)}"
    )
