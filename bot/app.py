"""Builds the Telegram Application: defaults, handlers, jobs, shared clients.

This file only wires; behaviour lives in handlers (thin) and services (thick).
"""

from __future__ import annotations

import contextlib
import logging

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode, UpdateType
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.aiohttp_request import AiohttpRequest
from bot.alerts import throttled_alert
from bot.app_type import App
from bot.callback_data import CallbackSigner, pattern
from bot.handler_kit import INVALID_BUTTON, SORRY
from bot.handlers import (
    admin,
    admin_tools,
    dashboard,
    draft_buttons,
    facebook_connect,
    flyer,
    lists,
    start,
    token_guard,
)
from bot.handlers import connect as connect_handlers
from bot.handlers import scrape_command as scrape_handlers
from bot.handlers import settings_menu as settings_commands
from bot.jobs import schedule_jobs
from bot.jobs.publish_job import close_graph
from bot.rate_limit import SendRateLimiter
from bot.render import escape, fit_text
from bot.runtime import RUNTIME_KEY, Runtime
from bot.telegram_notifier import TelegramNotifier
from bot.updates import RECEIVING_KEY, WORKER, WebhookTarget, start_receiving
from services.context import Database, open_database
from services.drafting.listing_drafts import DraftMaker
from services.drafting.printable_flyers import FlyerPrinter
from services.generation.writer_factory import build_writer, close_writer
from services.redaction import redact
from services.settings import Settings

log = logging.getLogger(__name__)

AGENT_COMMANDS = [
    BotCommand("drafts", "Drafts waiting for you"),
    BotCommand("schedule", "What is scheduled to post"),
    BotCommand("listings", "Homes assigned to you"),
    BotCommand("notifications", "Unread notifications"),
    BotCommand("settings", "Notifications, posting times, quiet hours"),
    BotCommand("connect", "Connect Facebook or Instagram"),
    BotCommand("accounts", "Your connected accounts"),
    BotCommand("dashboard", "Sign in to the web dashboard"),
    BotCommand("help", "What I can do"),
]
ADMIN_COMMANDS = [
    *AGENT_COMMANDS,
    BotCommand("addagent", "Create an agent and an invite link"),
    BotCommand("agents", "Agents and their status"),
    BotCommand("areas", "Set an agent's service areas"),
    BotCommand("marketing", "Require marketing sign-off for an agent"),
    BotCommand("setlicense", "Set an agent's license number"),
    BotCommand("scrape", "Check the builder's site now"),
    BotCommand("stats", "Numbers at a glance"),
    BotCommand("failed", "Posts that failed"),
    BotCommand("pause", "Stop all publishing"),
    BotCommand("resume", "Restart publishing"),
]


def file_base_url(base_url: str) -> str:
    """The Bot API file URL matching `base_url` (…/bot → …/file/bot)."""
    root, sep, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{root}/file/bot" if sep else base_url.rstrip("/") + "/file/bot"


def build_application(
    settings: Settings, *, database: Database | None = None, with_jobs: bool = True
) -> App:
    """The Application with its handlers; clients open in post_init.

    `database` lets tests and benches share an already open database.
    """
    token = settings.require_bot_token()
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(SendRateLimiter(max_retries=3))
        .concurrent_updates(256)
        # aiohttp instead of PTB's httpx transport: ~10x less CPU per Bot API call.
        .request(AiohttpRequest(connection_pool_size=64))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    app: App = builder.build()
    app.bot_data["settings"] = settings
    app.bot_data["injected_database"] = database
    app.bot_data["with_jobs"] = with_jobs
    _register_handlers(app)
    _register_fallbacks(app)
    return app


# The update types the handlers below read (commands and texts are messages; buttons are
# callback queries). Polling and the webhook ask Telegram for these only.
ALLOWED_UPDATES = (UpdateType.MESSAGE, UpdateType.CALLBACK_QUERY)


def _register_handlers(app: App) -> None:
    private = filters.ChatType.PRIVATE
    token_guard.register(app)
    app.add_handler(CommandHandler("start", start.start, filters=private))
    app.add_handler(CommandHandler("help", start.help_command, filters=private))
    app.add_handler(CommandHandler("drafts", draft_buttons.drafts_command, filters=private))
    app.add_handler(CommandHandler("dashboard", dashboard.dashboard_command, filters=private))
    app.add_handler(CommandHandler("addagent", admin.addagent, filters=private))
    app.add_handler(CommandHandler("pause", admin.pause, filters=private))
    app.add_handler(CommandHandler("resume", admin.resume, filters=private))
    settings_commands.register(app)
    lists.register(app)
    admin_tools.register(app)
    connect_handlers.register(app)
    facebook_connect.register(app)
    flyer.register(app)
    scrape_handlers.register(app)
    for action in draft_buttons.DRAFT_ACTIONS:
        app.add_handler(
            CallbackQueryHandler(draft_buttons.on_draft_button, pattern=pattern(action))
        )
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, draft_buttons.on_text)
    )
    app.add_error_handler(_on_error)


def _register_fallbacks(app: App) -> None:
    """Catch-alls, added after every other handler of group 0 so they never shadow one."""
    app.add_handler(CallbackQueryHandler(_unknown_button))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, _unknown_command))


async def _unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(INVALID_BUTTON)


async def _unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("I don't know that command. See /help.")


async def _post_init(app: App) -> None:
    settings: Settings = app.bot_data["settings"]
    database: Database | None = app.bot_data.get("injected_database")
    if database is None:
        cm = open_database(settings)
        database = await cm.__aenter__()
        app.bot_data["database_cm"] = cm
    signer = CallbackSigner.from_secret(settings.require_bot_token())
    rt = Runtime(
        settings=settings,
        database=database,
        signer=signer,
        notifier=TelegramNotifier(app.bot, signer, settings.admin_ids),
        bot_username=app.bot.username,
    )
    app.bot_data[RUNTIME_KEY] = rt
    key = settings.openai_api_key
    writer = build_writer(
        api_key=key.get_secret_value() if key is not None else None,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
    )
    printer = FlyerPrinter(site_url=settings.listings_base_url, builder=settings.builder_name)
    maker = DraftMaker(
        database,
        writer,
        notifier=rt.notifier,
        default_timezone=settings.default_timezone,
        builder_name=settings.builder_name,
        print_flyer=printer,
    )
    rt.writer, rt.draft_maker, rt.listing_events = writer, maker, maker
    rt.print_flyer = printer
    await _set_commands(app, settings)
    if app.bot_data.get("with_jobs", True):
        schedule_jobs(app)
    log.info("bot ready", extra={"username": app.bot.username})


async def _set_commands(app: App, settings: Settings) -> None:
    try:
        await app.bot.set_my_commands(AGENT_COMMANDS, scope=BotCommandScopeDefault())
        for admin_id in settings.admin_ids:
            try:
                await app.bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id))
            except TelegramError as exc:
                # An admin who never opened the bot has no chat yet.
                log.info("admin commands not set", extra={"admin": admin_id, "error": str(exc)})
    except TelegramError as exc:
        log.warning("could not register commands", extra={"error": str(exc)})


async def _post_shutdown(app: App) -> None:
    await close_graph(app)
    rt = app.bot_data.get(RUNTIME_KEY)
    if isinstance(rt, Runtime) and rt.writer is not None:
        writer, rt.writer = rt.writer, None
        await close_writer(writer)
    cm = app.bot_data.pop("database_cm", None)
    if cm is not None:
        await cm.__aexit__(None, None, None)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with the traceback; tell the admins in one line (once per kind a while, see
    bot/alerts.py); say sorry for a command (bot/handler_kit.py answered a tap already)."""
    log.error("unhandled error", exc_info=context.error)
    settings: Settings = context.application.bot_data["settings"]
    summary = redact(f"⚠️ Bot error: {type(context.error).__name__}: {context.error}")[:500]
    for admin_id in settings.admin_ids:
        with contextlib.suppress(TelegramError):
            await throttled_alert(context, admin_id, fit_text(escape(summary)))
    if isinstance(update, Update) and update.callback_query is not None:
        # bot/handler_kit.py answered the tap; no later group (the catch-all) may again.
        raise ApplicationHandlerStop
    if isinstance(update, Update) and update.effective_message is not None:
        with contextlib.suppress(TelegramError):
            await update.effective_message.reply_text(SORRY)


async def start_application(
    app: App, *, webhook: WebhookTarget | None = None, take_updates: bool = True
) -> None:
    """Initialize, run post_init, start jobs, then poll (or set the webhook when given).

    Without `take_updates` (a worker) nothing asks Telegram for updates: neither polling nor
    the webhook is touched, so the process taking the updates keeps them.
    """
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    if take_updates:
        await start_receiving(app, ALLOWED_UPDATES, webhook)
    else:
        app.bot_data[RECEIVING_KEY] = WORKER


async def stop_application(app: App) -> None:
    """Stop polling and jobs, run post_shutdown, release everything.

    Safe after a start that failed half way: whatever was opened is closed.
    """
    try:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
    finally:
        await app.shutdown()
        # Application.shutdown does nothing unless initialize() finished, but the bot opens
        # its HTTP sessions before the getMe that fails when the Bot API is unreachable.
        await app.bot.shutdown()
