"""`POST /telegram/webhook`: Telegram's updates, when TELEGRAM_MODE=webhook.

As in python-telegram-bot's own webhook handler: the secret header is checked first
(403 and nothing else happens when it is wrong or missing), the body must be a JSON
object, and the update is handed on and answered with an empty 200 at once: the bot
processes it afterwards, so a slow handler never makes Telegram send it again.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, no secret)

UpdateSink = Callable[[dict[str, Any]], Awaitable[None]]
"""Takes one update as decoded JSON; raises ValueError when it is not a valid update."""


@dataclass(frozen=True)
class TelegramWebhook:
    """What the view needs: the expected secret and where updates go."""

    secret: str
    deliver: UpdateSink


TELEGRAM_WEBHOOK = web.AppKey("telegram_webhook", TelegramWebhook)


async def receive_update(request: web.Request) -> web.Response:
    """Check the secret, parse the update, hand it to the bot; 200 right away."""
    hook = request.app.get(TELEGRAM_WEBHOOK)
    if hook is None:
        raise web.HTTPNotFound()
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), hook.secret.encode("utf-8")
    ):
        log.warning("webhook request with a wrong secret refused", extra={"peer": request.remote})
        raise web.HTTPForbidden()
    try:
        data = json.loads(await request.read())
    except ValueError:
        raise web.HTTPBadRequest(text="The body is not JSON.") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="The body is not an update.")
    try:
        await hook.deliver(data)
    except ValueError as exc:
        log.warning("webhook update could not be read", extra={"error": str(exc)})
        raise web.HTTPBadRequest(text="Update could not be processed.") from None
    return web.Response()
