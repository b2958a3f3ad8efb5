"""/dashboard: a single-use, 15-minute sign-in link to the web dashboard."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.handler_kit import Command, handles_message
from bot.render import code, link
from services.dashboard_auth import issue_login_link

log = logging.getLogger(__name__)

# Where the web server is reached; set by the process once it listens (WEB_PORT=0 picks one).
DASHBOARD_URL_KEY = "dashboard_url"
# `token=` in a URL is masked in every log line (services.redaction), PTB's DEBUG lines of
# the sendMessage carrying the link included.
LINK_PATH = "/login/link"


@handles_message()
async def dashboard_command(c: Command) -> None:
    """Send a linked agent (or an admin) a sign-in link for the dashboard."""
    user, rt = c.user, c.rt
    token = await rt.database.run(
        issue_login_link,
        telegram_user_id=user.id,
        is_admin=rt.is_admin(user.id),
        now=datetime.now(UTC),
    )
    base = str(c.context.application.bot_data.get(DASHBOARD_URL_KEY) or "")
    url = f"{base or rt.settings.public_base_url()}{LINK_PATH}?token={token}"
    log.info("dashboard link sent", extra={"telegram_user_id": user.id})
    await c.reply(
        f"🖥 {link('Open the dashboard', url)}\n"
        "The link signs you in once and works for 15 minutes. To open it on another "
        f"device, copy it:\n{code(url)}"
    )
