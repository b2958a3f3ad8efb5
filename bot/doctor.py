"""`rltr-mktg doctor`: check configuration and every outside service, in plain words."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import aiohttp
from sqlalchemy import text

from db import migrate
from db.session import create_engine
from services.facebook_login import FacebookApp, check_app
from services.graph_versions import version_status
from services.publishing import GraphClient, PublishError
from services.redaction import redact
from services.settings import ConfigError, Settings

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str
    warning: bool = False  # works today, but needs attention soon


async def _database(settings: Settings) -> Check:
    url = settings.resolved_database_url
    engine = create_engine(url, null_pool=True)
    try:
        async with asyncio.timeout(TIMEOUT_S), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        pending = await migrate.pending_revisions(url)
    except Exception as exc:
        return Check("database", False, f"cannot connect ({_short(exc)}); check DATABASE_URL")
    finally:
        await engine.dispose()
    if pending:
        return Check(
            "database", False, f"{len(pending)} migration(s) pending; run `rltr-mktg migrate`"
        )
    return Check("database", True, f"{engine.dialect.name}, schema up to date")


async def _telegram(settings: Settings) -> Check:
    if settings.telegram_bot_token is None:
        return Check("telegram", False, "TELEGRAM_BOT_TOKEN is not set; get one from @BotFather")
    from telegram import Bot

    bot = Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url
    )
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await bot.initialize()
        return Check("telegram", True, f"bot @{bot.username}")
    except Exception as exc:
        return Check(
            "telegram", False, f"{_short(exc)}; check TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL"
        )
    finally:
        # Also after a timeout, which `async with bot` would not clean up after.
        await bot.shutdown()


async def _openai(settings: Settings) -> Check:
    if settings.openai_api_key is None:
        return Check("openai", True, "no OPENAI_API_KEY: the built-in writer is used")
    from openai import AsyncOpenAI

    client = AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url or None,
        timeout=TIMEOUT_S,
        max_retries=0,
    )
    try:
        await client.models.retrieve(settings.openai_model)
        return Check("openai", True, f"model {settings.openai_model} available")
    except Exception as exc:
        return Check(
            "openai", False, f"{_short(exc)}; check OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL"
        )
    finally:
        await client.close()


async def _http(name: str, url: str, hint: str) -> Check:
    try:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            # Any HTTP answer proves the host is reachable (the Graph API says 400 without a token).
            return Check(name, True, f"reachable (HTTP {resp.status})")
    except Exception as exc:
        return Check(name, False, f"cannot reach {url} ({_short(exc)}); {hint}")


async def _facebook_login(settings: Settings) -> Check:
    base = settings.public_base_url()
    app = FacebookApp.from_settings(settings, public_url=lambda: base)
    if app is None:
        return Check(
            "facebook login",
            True,
            "not configured: agents paste a Page token (set FACEBOOK_APP_ID and "
            "FACEBOOK_APP_SECRET for Connect with Facebook)",
        )
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        client = GraphClient(session, settings.graph_api_base_url, max_retries=0)
        try:
            name = await check_app(client, app)
        except PublishError as exc:
            return Check(
                "facebook login",
                False,
                f"Facebook refused the app ({exc.graph_message or exc.kind}); check "
                "FACEBOOK_APP_ID and FACEBOOK_APP_SECRET",
            )
    https = app.redirect_uri.startswith("https://")
    return Check(
        "facebook login",
        True,
        f"app {name}; its Valid OAuth Redirect URIs must list {app.redirect_uri}"
        + ("" if https else " (Facebook wants https: set PUBLIC_URL)"),
        warning=not https,
    )


def _short(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text_[:160]


def _graph_version(settings: Settings, today: date) -> Check:
    status = version_status(settings.graph_api_base_url, today)
    return Check("graph api version", status.ok, status.advice, warning=status.warning)


async def run_doctor(settings: Settings, *, today: date | None = None) -> int:
    """Print one line per check; exit 0 when all pass (warnings included), 1 otherwise."""
    try:
        keys = settings.encryption_keys()
        checks = [Check("encryption key", True, f"{len(keys)} key(s) loaded")]
    except ConfigError as exc:
        checks = [Check("encryption key", False, str(exc))]
    checks.append(_graph_version(settings, today or datetime.now(UTC).date()))
    probes: list[Callable[[], Awaitable[Check]]] = [
        lambda: _database(settings),
        lambda: _telegram(settings),
        lambda: _openai(settings),
        lambda: _http("graph api", settings.graph_api_base_url, "check GRAPH_API_BASE_URL"),
        lambda: _facebook_login(settings),
        lambda: _http(
            "builder site", f"{settings.listings_base}/robots.txt", "check LISTINGS_BASE_URL"
        ),
    ]
    checks += await asyncio.gather(*(p() for p in probes))
    for check in checks:
        mark = "✗" if not check.ok else "⚠" if check.warning else "✓"
        print(redact(f"{mark} {check.name}: {check.detail}"))
    return 0 if all(c.ok for c in checks) else 1
