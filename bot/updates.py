"""How Telegram's updates reach the application: long polling, or a webhook.

In webhook mode python-telegram-bot's own web server is not used: the process's aiohttp
server receives each update (web/webhook.py) and hands it to `update_sink`, which puts it
on the application's update queue, as in PTB's `customwebhookbot` examples.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import BadRequest

from bot.app_type import App
from services.settings import ConfigError

RECEIVING_KEY = "receiving_updates"
"""bot_data key: "polling" or "webhook" once updates are being received; WORKER in a
`rltr-mktg worker`, which takes none."""
WORKER = "worker"
POLL_TIMEOUT_S = 10


@dataclass(frozen=True)
class WebhookTarget:
    """Where Telegram should send updates, and the secret it sends back with each one."""

    url: str
    secret: str


async def start_receiving(
    app: App, allowed_updates: Sequence[str], webhook: WebhookTarget | None = None
) -> None:
    """Start long polling, or register the webhook, for exactly `allowed_updates`."""
    if webhook is None:
        assert app.updater is not None
        # start_polling calls deleteWebhook before its first getUpdates (PTB Updater._bootstrap),
        # so a bot that ran in webhook mode before goes back to polling by itself.
        await app.updater.start_polling(
            allowed_updates=list(allowed_updates), timeout=POLL_TIMEOUT_S
        )
        app.bot_data[RECEIVING_KEY] = "polling"
        return
    try:
        await app.bot.set_webhook(
            url=webhook.url,
            secret_token=webhook.secret,
            allowed_updates=list(allowed_updates),
            drop_pending_updates=False,
        )
    except BadRequest as exc:
        raise ConfigError(
            f"Telegram refused the webhook address {webhook.url} ({exc.message}); check "
            "PUBLIC_URL, which must be reachable from the internet over https."
        ) from None
    app.bot_data[RECEIVING_KEY] = "webhook"


def update_sink(app: App) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """What the webhook view calls with each update: it goes on the update queue."""

    async def put(data: dict[str, Any]) -> None:
        try:
            update = Update.de_json(data, app.bot)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an update: {type(exc).__name__}") from exc
        await app.update_queue.put(update)

    return put
