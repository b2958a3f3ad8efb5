"""Sessions and CSRF on the HTTP side: cookies, the signed-in viewer, checked forms.

Every dashboard view is wrapped by `signed_in`: it finds the viewer from the session
cookie (or sends the browser to /login) and, on a POST, refuses the request before the
view runs unless the form carries the session's CSRF token. Sign-in forms, which have
no session yet, use a double-submit cookie instead (`login_csrf`).
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from db.base import utcnow
from services.dashboard_auth import SESSION_LIFETIME, Viewer, csrf_ok, current_viewer
from web.dashboard import Dashboard, dashboard_of

log = logging.getLogger(__name__)

SESSION_COOKIE = "rltr_session"
LOGIN_CSRF_COOKIE = "rltr_login_csrf"
CSRF_FIELD = "csrf"
_VIEWER = web.RequestKey("dashboard_viewer", Viewer)
_FORM = web.RequestKey[MultiDictProxy[Any]]("dashboard_form")
LOGIN_CSRF_AGE = timedelta(hours=2)
FORBIDDEN_FORM = "This form is out of date or was not sent from the dashboard; reload the page."

View = Callable[[web.Request], Awaitable[web.StreamResponse]]


def viewer_of(request: web.Request) -> Viewer:
    """The signed-in viewer of a request that passed `signed_in`."""
    return request[_VIEWER]


def form_of(request: web.Request) -> MultiDictProxy[Any]:
    """The checked form of a POST that passed `signed_in`."""
    return request[_FORM]


def _redirect_to_login(request: web.Request) -> web.HTTPSeeOther:
    target = request.path_qs if request.method == "GET" else "/"
    return web.HTTPSeeOther(
        location=str(request.app.router["login"].url_for().with_query(next=target))
    )


def signed_in(view: View) -> View:
    """Run `view` only for a live session (and, for a POST, a form with its CSRF token)."""

    @functools.wraps(view)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        dash = dashboard_of(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        viewer = None
        if token:
            async with dash.open_database().unit_of_work() as session:
                viewer = await current_viewer(
                    session, token=token, default_timezone=dash.default_timezone, now=utcnow()
                )
        if viewer is None:
            raise _redirect_to_login(request)
        if request.method == "POST":
            form = await request.post()
            given = form.get(CSRF_FIELD)
            if not isinstance(given, str) or not csrf_ok(token, given):
                log.warning(
                    "dashboard form without a valid CSRF token refused",
                    extra={"path": request.path, "user_id": str(viewer.user_id)},
                )
                raise web.HTTPForbidden(text=FORBIDDEN_FORM)
            request[_FORM] = form
        request[_VIEWER] = viewer
        return await view(request)

    return wrapper


def start_session(response: web.StreamResponse, dash: Dashboard, token: str) -> None:
    """Give the browser its session cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=dash.secure_cookies,
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")


def end_session(response: web.StreamResponse, dash: Dashboard) -> None:
    """Remove the session cookie."""
    response.del_cookie(SESSION_COOKIE, path="/", secure=dash.secure_cookies, httponly=True)


def login_csrf(request: web.Request, response: web.StreamResponse, dash: Dashboard) -> str:
    """The sign-in form's CSRF token: the browser's cookie, or a new one set on `response`."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=int(LOGIN_CSRF_AGE.total_seconds()),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=dash.secure_cookies,
    )
    return token


def login_csrf_ok(request: web.Request, form: MultiDictProxy[Any]) -> bool:
    """Whether a sign-in form carries the token of the browser's cookie (constant time)."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = form.get(CSRF_FIELD)
    if len(cookie) < 32 or not isinstance(given, str):
        return False
    return hmac.compare_digest(cookie.encode(), given.encode())
