"""`rltr-mktg run`: the web server and the bot in one event loop, started and stopped together.

Start: the web server first (so /healthz answers and Telegram can reach the webhook the
moment it is set), then the bot: post_init, jobs, and polling or setWebhook.
Stop, in this order: stop taking HTTP requests and finish those in flight; then the bot
(polling, update processing) and the jobs; then post_shutdown closes the clients and the
database.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from bot.app import build_application, start_application, stop_application
from bot.app_type import App
from bot.dashboard_sync import TelegramDraftSync
from bot.facebook_offer import TelegramPageOffer
from bot.handlers.dashboard import DASHBOARD_URL_KEY
from bot.handlers.facebook_connect import FACEBOOK_APP_KEY
from bot.jobs.publish_job import graph
from bot.readiness import bot_probe, jobs_probe
from bot.runtime import RUNTIME_KEY, Runtime
from bot.updates import WebhookTarget, update_sink
from services.context import Database
from services.facebook_login import FacebookApp
from services.process_roles import process_role
from services.publishing import GraphClient
from services.readiness import database_problem
from services.settings import TELEGRAM_WEBHOOK_PATH, ConfigError, Settings
from web.app import build_web_app
from web.dashboard import Dashboard, origin_of
from web.health import Probe
from web.server import WebServer
from web.views.facebook_callback import FacebookCallback
from web.webhook import TelegramWebhook

log = logging.getLogger(__name__)

LOGIN_GRAPH_TIMEOUT_S = 15.0


def open_database(app: App) -> Database | None:
    """The bot's database once post_init opened it."""
    rt = app.bot_data.get(RUNTIME_KEY)
    return rt.database if isinstance(rt, Runtime) else None


def readiness_probes(app: App) -> dict[str, Probe]:
    """The probes /readyz runs: database, bot, jobs."""

    async def database() -> str | None:
        opened = open_database(app)
        if opened is None:
            return "the database is not open yet"
        return await database_problem(opened)

    return {"database": database, "bot": bot_probe(app), "jobs": jobs_probe(app)}


def dashboard(settings: Settings, app: App) -> Dashboard:
    """The dashboard on the bot's database; its clicks redraw the drafts in Telegram."""
    return Dashboard(
        database=lambda: open_database(app),
        default_timezone=settings.default_timezone,
        secure_cookies=settings.public_base_url().startswith("https://"),
        image_origin=origin_of(settings.listings_base_url),
        draft_sync=TelegramDraftSync(app.bot, app.bot_data),
    )


def login_graph_client(app: App) -> GraphClient | None:
    """A Graph client for the Facebook callback on the bot's HTTP session (once post_init
    made the runtime): a person waits on that page, so one quick retry, not the jobs' three."""
    rt = app.bot_data.get(RUNTIME_KEY)
    if not isinstance(rt, Runtime):
        return None
    resources = graph(rt)
    return GraphClient(
        resources.session,
        resources.client.base_url,
        timeout_s=LOGIN_GRAPH_TIMEOUT_S,
        max_retries=1,
        backoff_base_s=0.5,
    )


def facebook_callback(settings: Settings, app: App) -> FacebookCallback | None:
    """Connect with Facebook when FACEBOOK_APP_ID/SECRET are set; /connect then offers it."""
    meta_app = FacebookApp.from_settings(
        settings,
        public_url=lambda: str(app.bot_data.get(DASHBOARD_URL_KEY) or settings.public_base_url()),
    )
    if meta_app is None:
        return None
    app.bot_data[FACEBOOK_APP_KEY] = meta_app
    return FacebookCallback(
        app=meta_app,
        database=lambda: open_database(app),
        graph=lambda: login_graph_client(app),
        sink=TelegramPageOffer(app.bot, app.bot_data),
    )


def web_server(settings: Settings, app: App, *, take_updates: bool = True) -> WebServer:
    """The web server for this bot: health, metrics, the dashboard, Connect with Facebook
    and, in webhook mode, the webhook (never in a worker)."""
    webhook = None
    if take_updates and settings.telegram_mode == "webhook":
        webhook = TelegramWebhook(secret=settings.webhook_secret(), deliver=update_sink(app))
    web_app = build_web_app(
        probes=readiness_probes(app),
        telegram_webhook=webhook,
        dashboard=dashboard(settings, app),
        facebook=facebook_callback(settings, app),
        trusted_proxy_hops=settings.trusted_proxy_hops,
    )
    return WebServer(web_app, settings.web_host, settings.web_port)


def freeze_startup_heap() -> None:
    """Keep what start-up built out of the cyclic garbage collector, for good.

    Modules, the application, pools and caches live as long as the process, yet every
    full collection walked all of them: bench/approval.py saw each such pass take about
    0.2 s of CPU, a stall of every tap in flight, once every few hundred taps. Frozen,
    a full pass walks only what was made since (about 35 ms there).
    """
    gc.collect()
    gc.freeze()


async def serve(
    settings: Settings,
    app: App,
    server: WebServer,
    stop: asyncio.Event,
    *,
    take_updates: bool = True,
    freeze_heap: bool = False,
) -> None:
    """Start the server and the bot, wait for `stop`, then shut down in order.

    Without `take_updates` (`rltr-mktg worker`): the jobs and the web side only. With
    `freeze_heap` (a real process, not a test): `freeze_startup_heap` once started."""
    try:
        # getMe first: a refused token or an unreachable Bot API is then one sentence,
        # before anything listens or logs that it does.
        await app.initialize()
    except BaseException:
        await stop_application(app)
        raise
    try:
        try:
            await server.start()
        except OSError as exc:
            raise ConfigError(
                f"WEB_HOST/WEB_PORT: cannot listen on {settings.web_host}:{settings.web_port} "
                f"({exc.strerror or exc}); set WEB_PORT to a free port."
            ) from None
        app.bot_data[DASHBOARD_URL_KEY] = settings.public_base_url(server.port)
        webhook = None
        if take_updates and settings.telegram_mode == "webhook":
            url = settings.public_base_url(server.port) + TELEGRAM_WEBHOOK_PATH
            webhook = WebhookTarget(url=url, secret=settings.webhook_secret())
        await start_application(app, webhook=webhook, take_updates=take_updates)
        if freeze_heap:
            freeze_startup_heap()
        mode = settings.telegram_mode if take_updates else "worker"
        log.info("running", extra={"mode": mode, "web_port": server.port})
        await stop.wait()
    finally:
        log.info("shutting down")
        await server.stop()
        await stop_application(app)


async def run_process(settings: Settings, *, take_updates: bool = True) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly; `take_updates=False` is
    `rltr-mktg worker`."""
    polling = take_updates and settings.telegram_mode == "polling"
    async with process_role(settings.resolved_database_url, polling=polling):
        app = build_application(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server = web_server(settings, app, take_updates=take_updates)
        await serve(settings, app, server, stop, take_updates=take_updates, freeze_heap=True)
