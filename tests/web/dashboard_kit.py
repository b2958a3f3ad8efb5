"""Helpers of the dashboard tests: a served dashboard, signed-in clients, forms."""

from __future__ import annotations

import contextlib
import html
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from db.base import utcnow
from db.models import Agent
from db.repositories import users as users_repo
from db.repositories import web_sessions
from services import dashboard_auth as auth
from services.approval import TapResult
from services.context import Database
from services.dashboard_actions import DraftSync
from services.onboarding import hash_invite_token
from web.app import build_web_app
from web.dashboard import Dashboard

Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class SyncRecorder:
    """A DraftSync that remembers what it was told."""

    changes: list[TapResult] = field(default_factory=list)

    async def draft_changed(self, result: TapResult) -> None:
        self.changes.append(result)


def dashboard_app(
    database: Database | None,
    *,
    sync: DraftSync | None = None,
    secure: bool = False,
    proxy_hops: int = 0,
) -> web.Application:
    """The web app with a dashboard on `database` (None: the process is still starting)."""
    return build_web_app(
        probes={},
        trusted_proxy_hops=proxy_hops,
        dashboard=Dashboard(
            database=lambda: database,
            default_timezone="UTC",
            secure_cookies=secure,
            image_origin="https://holidaybuilders.com",
            draft_sync=sync,
        ),
    )


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[Client]:
    """A test client (with its own cookie jar) on a served app."""
    async with TestClient(TestServer(app)) as client:
        yield client


async def new_client(server: TestServer) -> aiohttp.ClientSession:
    """Another browser on the same server (its own cookies); close it with `.close()`."""
    return aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


def csrf_in(page: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(page)
    assert found, page[:2000]
    return html.unescape(found.group(1))


async def make_user(
    database: Database,
    *,
    agent: Agent | None = None,
    admin: bool = False,
    email: str | None = None,
    password: str = PASSWORD,
) -> str:
    """A dashboard user (through the add-user service); returns its email."""
    email = email or (f"user-{agent.email}" if agent is not None else "broker@example.com")
    async with database.unit_of_work() as session:
        await auth.add_user(
            session,
            email=email,
            password=password,
            agent_email=agent.email if agent is not None else None,
            is_admin=admin,
        )
    return email


async def session_user(
    database: Database, *, agent: Agent | None = None, admin: bool = False
) -> str:
    """A user without a password (cheap: no argon2); sign in with `sign_in_by_link`."""
    async with database.unit_of_work() as session:
        user = await users_repo.create_user(
            session,
            email=f"desk-{uuid.uuid4().hex[:10]}@example.com",
            password_hash=auth.NO_PASSWORD,
            agent_id=agent.id if agent is not None else None,
            is_admin=admin,
        )
    return str(user.id)


async def link_token(database: Database, user_id: str) -> str:
    """A fresh login link for a user (what /dashboard sends)."""
    token = secrets.token_urlsafe(24)
    async with database.unit_of_work() as session:
        await web_sessions.create_login_link(
            session,
            user_id=uuid.UUID(user_id),
            token_hash=hash_invite_token(token),
            expires_at=utcnow() + auth.LOGIN_LINK_TTL,
        )
    return token


async def sign_in_by_link(client: Client, token: str) -> Any:
    """Open a login link and press its button; returns the final response."""
    page = await client.get("/login/link", params={"token": token})
    text = await page.text()
    if page.status != 200:
        return page
    return await client.post(
        "/login/link", data={"csrf": csrf_in(text), "token": token}, allow_redirects=True
    )


async def sign_in(client: Client, database: Database, **who: Any) -> None:
    """Sign `client` in as a new user (an agent's with agent=..., or admin=True)."""
    user_id = await session_user(database, **who)
    response = await sign_in_by_link(client, await link_token(database, user_id))
    assert response.status == 200, await response.text()


async def sign_in_with_password(
    client: Client, email: str, password: str = PASSWORD, **extra: str
) -> Any:
    """Fill in and send the sign-in form; returns the response (redirects not followed)."""
    page = await client.get("/login")
    token = csrf_in(await page.text())
    return await client.post(
        "/login",
        data={"csrf": token, "email": email, "password": password, **extra},
        allow_redirects=False,
    )


async def page_csrf(client: Client, path: str = "/drafts") -> str:
    """The signed-in client's CSRF token, read from a page."""
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return csrf_in(await response.text())
