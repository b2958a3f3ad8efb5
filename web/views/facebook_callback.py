"""`GET /auth/facebook/callback`: where Facebook's Login dialog sends the agent back.

Thin: the service does the work (services/facebook_login.py); this answers one sentence
in a small page. The page is never cached and sends no referrer, since its URL carries
the code and the state.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from services.context import Database
from services.facebook_login import STARTING, FacebookApp, OfferSink, finish_login
from services.publishing import GraphClient

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class FacebookCallback:
    """What the callback needs from the process (None while it is still starting)."""

    app: FacebookApp
    database: Callable[[], Database | None]
    graph: Callable[[], GraphClient | None]
    sink: OfferSink


FACEBOOK_CALLBACK = web.AppKey("facebook_callback", FacebookCallback)


async def callback(request: web.Request) -> web.Response:
    """Finish the login and say how it went, in one sentence."""
    found = request.app.get(FACEBOOK_CALLBACK)
    if found is None:
        raise web.HTTPNotFound()
    database, client = found.database(), found.graph()
    if database is None or client is None:
        return page(STARTING, 503)
    outcome = await finish_login(database, client, found.app, found.sink, dict(request.query))
    return page(outcome.message, outcome.status)


def page(sentence: str, status: int = 200) -> web.Response:
    """A minimal page holding one sentence."""
    text = html.escape(sentence)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Connect with Facebook</title></head><body><p>{text}</p></body></html>"
    )
    return web.Response(text=body, status=status, content_type="text/html", headers=HEADERS)
