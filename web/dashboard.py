"""The dashboard's wiring: what its views need, templates, static files, headers.

Pages are Jinja2 templates rendered on the server (aiohttp-jinja2) with autoescaping on
for every template, and one stylesheet. No script runs on any page, which the
Content-Security-Policy states: a text that slipped through escaping still could not run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from services.context import Database
from services.dashboard_actions import DraftSync
from services.dashboard_views import ACTION_LABELS, STATUS_LABELS
from services.display import fmt_dt, money
from services.rendering.price_svg import PricePoint, price_chart_svg

HERE = Path(__file__).resolve().parent
STATIC_PREFIX = "/static"
STARTING = "The dashboard is starting; reload this page in a few seconds."


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard views need from the process."""

    # The database once the process has opened it (None while it starts).
    database: Callable[[], Database | None]
    default_timezone: str
    # Cookies only over https when the public address is https.
    secure_cookies: bool = False
    # The builder site's origin: listing photos are shown from there.
    image_origin: str | None = None
    draft_sync: DraftSync | None = None

    def open_database(self) -> Database:
        """The open database, or 503 while the process is still starting."""
        database = self.database()
        if database is None:
            raise web.HTTPServiceUnavailable(text=STARTING)
        return database


DASHBOARD = web.AppKey("dashboard", Dashboard)


def dashboard_of(request: web.Request) -> Dashboard:
    """The dashboard config, or 404 when this server has no dashboard."""
    found = request.app.get(DASHBOARD)
    if found is None:
        raise web.HTTPNotFound()
    return found


def origin_of(url: str | None) -> str | None:
    """scheme://host[:port] of a URL (for the CSP), or None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def safe_url(value: object) -> str:
    """`value` when it is an http(s) URL, else "" (never a javascript: link)."""
    text = str(value or "")
    return text if text.startswith(("https://", "http://")) else ""


def _price_chart(points: list[PricePoint]) -> Markup:
    # price_chart_svg escapes every text it draws and holds only numbers otherwise.
    return Markup(price_chart_svg(points))  # noqa: S704


def _money(value: Decimal | int | None) -> str:
    return money(value)


def _when(value: datetime | None, timezone: str) -> str:
    return fmt_dt(value, timezone) if value is not None else ""


def _stamp(value: datetime | None, timezone: str) -> str:
    # With the year: the audit log goes back further than this year.
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(timezone))
    hour = local.hour % 12 or 12
    return f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} {local:%p}"


def _longday(value: date) -> str:
    return f"{value:%A}, {value:%B} {value.day}, {value.year}"


def _label(status: object) -> str:
    return STATUS_LABELS.get(str(status), str(status).replace("_", " "))


def _action(action: object) -> str:
    return ACTION_LABELS.get(str(action), str(action).replace("_", " "))


def _environment(app: web.Application) -> jinja2.Environment:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        default_helpers=False,
    )
    env.filters.update(
        money=_money,
        when=_when,
        longday=_longday,
        stamp=_stamp,
        status_label=_label,
        action_label=_action,
        safe_url=safe_url,
    )
    env.globals.update(price_chart=_price_chart, static=STATIC_PREFIX)
    return env


def content_security_policy(image_origin: str | None) -> str:
    """No script anywhere; styles and images from here (photos also from the builder)."""
    images = " ".join(x for x in ("'self'", "data:", "https:", image_origin) if x)
    return (
        "default-src 'none'; "
        "style-src 'self'; "
        f"img-src {images}; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'none'"
    )


def security_headers(image_origin: str | None) -> Callable[[web.Request, Any], Any]:
    """Headers every response carries (set just before it is sent)."""
    policy = content_security_policy(image_origin)

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        started = request.get(_STARTED)
        if started is not None:
            elapsed_ms = (time.perf_counter() - started) * 1000
            headers.setdefault("Server-Timing", f"app;dur={elapsed_ms:.1f}")

    return add


_STARTED = web.RequestKey("dashboard_started_at", float)


@web.middleware
async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
    """Note when the request reached the app, for the Server-Timing header."""
    request[_STARTED] = time.perf_counter()
    response: web.StreamResponse = await handler(request)
    return response


def setup_dashboard(app: web.Application, dashboard: Dashboard) -> None:
    """Templates, static files, headers and the dashboard config on `app`."""
    app[DASHBOARD] = dashboard
    _environment(app)
    app.middlewares.append(timed)
    app.on_response_prepare.append(security_headers(dashboard.image_origin))
    app.router.add_static(STATIC_PREFIX, HERE / "static", name="static", append_version=False)
