"""The web application: every route in one table, shared objects in typed app keys."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from services.settings import FACEBOOK_CALLBACK_PATH, TELEGRAM_WEBHOOK_PATH
from web import health, webhook
from web.client_address import client_address_middleware
from web.dashboard import Dashboard, setup_dashboard
from web.health import PROBES, Probe
from web.views import actions, export, facebook_callback, login, pages
from web.views.facebook_callback import FACEBOOK_CALLBACK, FacebookCallback
from web.webhook import TELEGRAM_WEBHOOK, TelegramWebhook

ROUTES = [
    web.get("/healthz", health.healthz),
    web.get("/readyz", health.readyz),
    web.get("/metrics", health.metrics_view),
    web.post(TELEGRAM_WEBHOOK_PATH, webhook.receive_update),
    # Connect with Facebook (404 when no Meta app is configured).
    web.get(FACEBOOK_CALLBACK_PATH, facebook_callback.callback),
    # The dashboard (404 without one; every page but the sign-in ones needs a session).
    web.get("/login", login.login_form, name="login"),
    web.post("/login", login.login),
    web.get("/login/link", login.link_form, name="login_link"),
    web.post("/login/link", login.use_link),
    web.post("/logout", login.logout, name="logout"),
    web.get("/", pages.overview, name="overview"),
    web.get("/drafts", pages.drafts, name="drafts"),
    web.get("/drafts/{piece_id}", pages.draft, name="draft"),
    web.post("/drafts/{piece_id}/{action}", actions.act, name="draft_action"),
    web.get("/schedule", pages.schedule, name="schedule"),
    web.get("/posts", pages.posts, name="posts"),
    web.get("/audit", pages.audit, name="audit"),
    web.get("/audit.csv", export.audit_csv, name="audit_csv"),
    web.get("/listings", pages.listings, name="listings"),
]


def build_web_app(
    *,
    probes: Mapping[str, Probe],
    telegram_webhook: TelegramWebhook | None = None,
    dashboard: Dashboard | None = None,
    facebook: FacebookCallback | None = None,
    trusted_proxy_hops: int = 0,
) -> web.Application:
    """The application; `telegram_webhook` is None in polling mode (the route answers 404),
    `dashboard` where no dashboard is served and `facebook` where no Meta app is configured
    (their routes answer 404 too). `trusted_proxy_hops`: reverse proxies in front, whose
    X-Forwarded-For names the client (web.client_address)."""
    middlewares = [client_address_middleware(trusted_proxy_hops)] if trusted_proxy_hops else []
    app = web.Application(middlewares=middlewares)
    app[PROBES] = dict(probes)
    if telegram_webhook is not None:
        app[TELEGRAM_WEBHOOK] = telegram_webhook
    if dashboard is not None:
        setup_dashboard(app, dashboard)
    if facebook is not None:
        app[FACEBOOK_CALLBACK] = facebook
    app.add_routes(ROUTES)
    return app
