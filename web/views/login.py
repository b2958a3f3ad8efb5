"""Signing in and out: `/login` (email and password), `/login/link` (the link `/dashboard`
sends in Telegram), `/logout`.

Opening a login link only shows a button; the link is used up by pressing it (a POST),
so a link preview or a mail scanner that fetches the URL cannot spend it.
"""

from __future__ import annotations

import logging

import aiohttp_jinja2
from aiohttp import web

from db.base import utcnow
from services import dashboard_auth as auth
from web.auth import (
    CSRF_FIELD,
    end_session,
    login_csrf,
    login_csrf_ok,
    signed_in,
    start_session,
    viewer_of,
)
from web.dashboard import Dashboard, dashboard_of
from web.views.params import local_path

log = logging.getLogger(__name__)

EXPIRED_FORM = "The sign-in form had expired; please try again."


def _login_page(
    request: web.Request,
    dash: Dashboard,
    *,
    error: str | None = None,
    email: str = "",
    status: int = 200,
) -> web.Response:
    response = web.Response(status=status, content_type="text/html")
    token = login_csrf(request, response, dash)
    response.text = aiohttp_jinja2.render_string(
        "login.html",
        request,
        {
            "error": error,
            "email": email,
            "csrf": token,
            "csrf_field": CSRF_FIELD,
            "next": local_path(request.query.get("next"), "/"),
            "title": "Sign in",
        },
    )
    return response


async def login_form(request: web.Request) -> web.Response:
    """The sign-in form."""
    return _login_page(request, dashboard_of(request))


async def login(request: web.Request) -> web.Response:
    """Check the email and password; on success, a session cookie and on to the page."""
    dash = dashboard_of(request)
    form = await request.post()
    email = str(form.get("email") or "")[:320]
    if not login_csrf_ok(request, form):
        return _login_page(request, dash, error=EXPIRED_FORM, email=email, status=403)
    async with dash.open_database().unit_of_work() as session:
        outcome = await auth.sign_in_with_password(
            session,
            email=email,
            password=str(form.get("password") or ""),
            address=request.remote or "unknown",
            now=utcnow(),
        )
    if outcome.token is None:
        log.info("dashboard sign-in refused", extra={"peer": request.remote})
        status = 429 if outcome.error == auth.TOO_MANY_FAILURES else 401
        return _login_page(request, dash, error=outcome.error, email=email, status=status)
    target = local_path(form.get("next"), "/")
    response = web.HTTPSeeOther(location=target)
    start_session(response, dash, outcome.token)
    raise response


async def link_form(request: web.Request) -> web.Response:
    """A login link opened: a button that uses it (nothing is used up yet)."""
    dash = dashboard_of(request)
    token = str(request.query.get("token") or "")[:200]
    async with dash.open_database().unit_of_work() as session:
        usable = bool(token) and await auth.link_is_usable(session, token=token, now=utcnow())
    response = web.Response(content_type="text/html", status=200 if usable else 410)
    csrf = login_csrf(request, response, dash)
    response.text = aiohttp_jinja2.render_string(
        "link.html",
        request,
        {
            "usable": usable,
            "error": None if usable else auth.LINK_UNUSABLE,
            "token": token,
            "csrf": csrf,
            "csrf_field": CSRF_FIELD,
            "title": "Sign in",
        },
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def use_link(request: web.Request) -> web.StreamResponse:
    """Use up the login link and start a session."""
    dash = dashboard_of(request)
    form = await request.post()
    if not login_csrf_ok(request, form):
        raise web.HTTPForbidden(text=EXPIRED_FORM)
    async with dash.open_database().unit_of_work() as session:
        outcome = await auth.sign_in_with_link(
            session, token=str(form.get("token") or "")[:200], now=utcnow()
        )
    if outcome.token is None:
        return _login_page(request, dash, error=outcome.error, status=410)
    response = web.HTTPSeeOther(location="/")
    start_session(response, dash, outcome.token)
    raise response


@signed_in
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (in the database, and the cookie)."""
    dash = dashboard_of(request)
    async with dash.open_database().unit_of_work() as session:
        await auth.sign_out(session, viewer_of(request), utcnow())
    response = web.HTTPSeeOther(location="/login")
    end_session(response, dash)
    raise response
