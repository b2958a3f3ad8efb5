"""The web application: every route in one table, shared objects in typed app keys."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from services.settings import TELEGRAM_WEBHOOK_PATH
from web import health, webhook
from web.health import PROBES, Probe
from web.webhook import TELEGRAM_WEBHOOK, TelegramWebhook

ROUTES = [
    web.get("/healthz", health.healthz),
    web.get("/readyz", health.readyz),
    web.get("/metrics", health.metrics_view),
    web.post(TELEGRAM_WEBHOOK_PATH, webhook.receive_update),
]


def build_web_app(
    *, probes: Mapping[str, Probe], telegram_webhook: TelegramWebhook | None = None
) -> web.Application:
    """The application; `telegram_webhook` is None in polling mode (the route answers 404)."""
    app = web.Application()
    app[PROBES] = dict(probes)
    if telegram_webhook is not None:
        app[TELEGRAM_WEBHOOK] = telegram_webhook
    app.add_routes(ROUTES)
    return app
