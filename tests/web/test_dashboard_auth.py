"""Signing in and out of the dashboard over HTTP, on both databases: passwords (argon2,
rehash, rate limit), login links (single use, 15 minutes), sessions (cookie flags, hashed
tokens, logout, idle and absolute ends, deactivation), CSRF, security headers."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from db.base import utcnow
from db.models import Agent, LoginAttempt, LoginLink, User, WebSession
from services import dashboard_auth as auth
from services.context import Database
from services.crypto import password_needs_rehash, verify_password
from services.errors import NotAllowedError
from tests.factories import make_agent
from tests.web.dashboard_kit import (
    PASSWORD,
    csrf_in,
    dashboard_app,
    link_token,
    make_user,
    new_client,
    serve,
    session_user,
    sign_in,
    sign_in_by_link,
    sign_in_with_password,
)
from web.app import ROUTES, build_web_app
from web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE


async def _users(database: Database) -> list[User]:
    async with database.unit_of_work() as s:
        return list((await s.execute(select(User))).scalars())


async def _sessions(database: Database) -> list[WebSession]:
    async with database.unit_of_work() as s:
        return list((await s.execute(select(WebSession))).scalars())


async def test_password_sign_in_sets_a_safe_cookie_and_writes_last_login(
    database: Database,
) -> None:
    email = await make_user(database, admin=True)
    async with serve(dashboard_app(database)) as client:
        response = await sign_in_with_password(client, email, next="/audit?action=approved")
        assert response.status == 303
        assert response.headers["Location"] == "/audit?action=approved"
        cookie = response.cookies[SESSION_COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
        assert not cookie["secure"]
        assert int(cookie["max-age"]) == int(auth.SESSION_LIFETIME.total_seconds())
        page = await client.get("/audit")
        assert page.status == 200 and "Sign out" in await page.text()
    [user] = await _users(database)
    assert user.last_login_at is not None and utcnow() - user.last_login_at < timedelta(minutes=1)
    # Only the token's SHA-256 is stored.
    [row] = await _sessions(database)
    assert row.token_hash == hashlib.sha256(cookie.value.encode()).hexdigest()
    assert cookie.value not in {row.token_hash, str(row.id)}


async def test_the_cookie_is_secure_under_https(database: Database) -> None:
    email = await make_user(database, admin=True)
    async with serve(dashboard_app(database, secure=True)) as client:
        page = await client.get("/login")
        csrf_cookie = page.cookies[LOGIN_CSRF_COOKIE]
        assert csrf_cookie["secure"]
        # A browser sends a Secure cookie over https only; the test server is http.
        response = await client.post(
            "/login",
            data={"csrf": csrf_in(await page.text()), "email": email, "password": PASSWORD},
            headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={csrf_cookie.value}"},
            allow_redirects=False,
        )
        assert response.status == 303 and response.cookies[SESSION_COOKIE]["secure"]


async def test_a_wrong_password_or_unknown_email_is_one_sentence(database: Database) -> None:
    email = await make_user(database, admin=True)
    async with serve(dashboard_app(database)) as client:
        for who, password in ((email, "not the password at all"), ("nobody@example.com", PASSWORD)):
            response = await sign_in_with_password(client, who, password)
            assert response.status == 401
            assert auth.BAD_LOGIN in await response.text()
            assert SESSION_COOKIE not in response.cookies
    assert await _sessions(database) == []
    assert all(u.last_login_at is None for u in await _users(database))


async def test_five_failures_in_a_minute_refuse_even_the_right_password(
    database: Database,
) -> None:
    email = await make_user(database, admin=True)
    other = await make_user(database, admin=True, email="assistant@example.com")
    async with serve(dashboard_app(database)) as client:
        for _ in range(auth.MAX_FAILED_LOGINS):
            assert (await sign_in_with_password(client, email, "wrong password!!")).status == 401
        refused = await sign_in_with_password(client, email)
        assert refused.status == 429
        assert auth.TOO_MANY_FAILURES in await refused.text()
        assert SESSION_COOKIE not in refused.cookies
        # Another email from the same address is not locked out.
        assert (await sign_in_with_password(client, other)).status == 303
    async with database.unit_of_work() as s:
        # The refused attempt is not counted as one more failure.
        attempts = (await s.execute(select(LoginAttempt))).scalars().all()
    assert len(attempts) == auth.MAX_FAILED_LOGINS
    assert {a.address for a in attempts} == {"127.0.0.1"} and {a.email for a in attempts} == {email}


async def test_the_limit_counts_only_the_last_minute_and_is_shared_by_processes(
    database: Database,
) -> None:
    """Attempts live in the database: a failure recorded anywhere counts; after a minute,
    it does not any more."""
    email = await make_user(database, admin=True)
    now = utcnow()
    async with database.unit_of_work() as s:
        for _ in range(auth.MAX_FAILED_LOGINS):
            s.add(LoginAttempt(address="10.0.0.9", email=email, attempted_at=now))
    async with database.unit_of_work() as s:
        refused = await auth.sign_in_with_password(
            s, email=email, password=PASSWORD, address="10.0.0.9", now=now
        )
    assert refused == auth.SignIn(error=auth.TOO_MANY_FAILURES)
    later = now + auth.FAILED_LOGIN_WINDOW + timedelta(seconds=1)
    async with database.unit_of_work() as s:
        allowed = await auth.sign_in_with_password(
            s, email=email, password=PASSWORD, address="10.0.0.9", now=later
        )
    assert allowed.token is not None


async def test_a_sign_in_form_without_its_csrf_token_changes_nothing(database: Database) -> None:
    email = await make_user(database, admin=True)
    async with serve(dashboard_app(database)) as client:
        await client.get("/login")  # the browser has the cookie, the attacker's form lacks it
        response = await client.post(
            "/login", data={"email": email, "password": PASSWORD}, allow_redirects=False
        )
        assert response.status == 403
        assert SESSION_COOKIE not in response.cookies
        forged = await client.post(
            "/login",
            data={"csrf": "x" * 43, "email": email, "password": PASSWORD},
            allow_redirects=False,
        )
        assert forged.status == 403
    assert await _sessions(database) == []


async def test_a_login_link_works_once_and_only_within_15_minutes(database: Database) -> None:
    user_id = await session_user(database, admin=True)
    token = await link_token(database, user_id)
    app = dashboard_app(database)
    async with serve(app) as client:
        # Opening the link spends nothing (a link preview may fetch it).
        for _ in range(2):
            assert (await client.get("/login/link", params={"token": token})).status == 200
        used = await sign_in_by_link(client, token)
        assert used.status == 200 and "Sign out" in await used.text()
        other = await new_client(client.server)
        try:
            again = await other.get("/login/link", params={"token": token})
            assert again.status == 410 and auth.LINK_UNUSABLE in await again.text()
            login_page = await other.get("/login")  # a valid sign-in CSRF token
            replay = await other.post(
                "/login/link",
                data={"csrf": csrf_in(await login_page.text()), "token": token},
                allow_redirects=False,
            )
            assert replay.status == 410 and SESSION_COOKIE not in replay.cookies
            assert auth.LINK_UNUSABLE in await replay.text()
            # An expired link is refused the same way.
            late = await link_token(database, user_id)
            async with database.unit_of_work() as s:
                await s.execute(
                    update(LoginLink)
                    .where(LoginLink.used_at.is_(None))
                    .values(expires_at=utcnow() - timedelta(seconds=1))
                )
            assert (await sign_in_by_link(other, late)).status == 410
            assert (await sign_in_by_link(other, "made-up-token")).status == 410
            assert (await other.get("/drafts", allow_redirects=False)).status == 303
        finally:
            await other.close()
    assert len(await _sessions(database)) == 1


async def test_a_link_lives_15_minutes(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        assert agent.telegram_user_id is not None
        now = utcnow()
        token = await auth.issue_login_link(
            s, telegram_user_id=agent.telegram_user_id, is_admin=False, now=now
        )
        link = (await s.execute(select(LoginLink))).scalar_one()
    assert link.expires_at == now + timedelta(minutes=15)
    async with database.unit_of_work() as s:
        at_expiry = await auth.sign_in_with_link(s, token=token, now=link.expires_at)
    assert at_expiry.error == auth.LINK_UNUSABLE


async def test_a_deactivated_agents_user_cannot_sign_in_and_loses_its_session(
    database: Database,
) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
    email = await make_user(database, agent=agent)
    async with serve(dashboard_app(database)) as client:
        assert (await sign_in_with_password(client, email)).status == 303
        assert (await client.get("/drafts", allow_redirects=False)).status == 200
        async with database.unit_of_work() as s:
            await s.execute(update(Agent).where(Agent.id == agent.id).values(is_active=False))
        # The open session stops working at once...
        response = await client.get("/drafts", allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/login")
        # ...and it is ended, not merely refused.
        assert all(s.ended_at is not None for s in await _sessions(database))
        # Signing in again is refused with a sentence, even with the right password.
        refused = await sign_in_with_password(client, email)
        assert refused.status == 401
        assert "deactivated" in await refused.text()
        assert SESSION_COOKIE not in refused.cookies


async def test_a_deactivated_agent_gets_no_link_and_cannot_use_an_old_one(
    database: Database,
) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        assert agent.telegram_user_id is not None
        token = await auth.issue_login_link(
            s, telegram_user_id=agent.telegram_user_id, is_admin=False, now=utcnow()
        )
        await s.execute(update(Agent).where(Agent.id == agent.id).values(is_active=False))
    async with database.unit_of_work() as s:
        with pytest.raises(NotAllowedError, match="deactivated"):
            await auth.issue_login_link(
                s, telegram_user_id=agent.telegram_user_id, is_admin=False, now=utcnow()
            )
    async with serve(dashboard_app(database)) as client:
        response = await sign_in_by_link(client, token)
        assert "deactivated" in await response.text()
        assert (await client.get("/drafts", allow_redirects=False)).status == 303


async def test_logout_ends_the_session_for_good(database: Database) -> None:
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE]
        page = await client.get("/")
        response = await client.post(
            "/logout", data={"csrf": csrf_in(await page.text())}, allow_redirects=False
        )
        assert response.status == 303 and response.headers["Location"] == "/login"
        # The cookie is dropped, and the old token no longer opens anything.
        client.session.cookie_jar.update_cookies({SESSION_COOKIE: cookie.value})
        assert (await client.get("/", allow_redirects=False)).status == 303
    [row] = await _sessions(database)
    assert row.ended_at is not None


async def test_a_session_ends_after_12_idle_hours_and_after_30_days(database: Database) -> None:
    user_id = await session_user(database, admin=True)
    async with database.unit_of_work() as s:
        token = (
            await auth.sign_in_with_link(s, token=await link_token(database, user_id), now=utcnow())
        ).token
    assert token is not None
    now = utcnow()

    async def viewer_at(when: object) -> auth.Viewer | None:
        async with database.unit_of_work() as s:
            return await auth.current_viewer(
                s,
                token=token,
                default_timezone="UTC",
                now=when,  # type: ignore[arg-type]
            )

    assert await viewer_at(now + timedelta(hours=11)) is not None  # and it was touched then
    assert await viewer_at(now + timedelta(hours=22)) is not None  # 11 h after the touch
    assert await viewer_at(now + timedelta(hours=34, minutes=1)) is None  # idle 12 h
    async with database.unit_of_work() as s:
        await s.execute(update(WebSession).values(last_seen_at=now + timedelta(days=31)))
    assert await viewer_at(now + timedelta(days=31)) is None  # 30 days after sign-in


async def test_a_password_made_with_old_parameters_is_rehashed_at_sign_in(
    database: Database,
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    assert password_needs_rehash(weak)
    email = await make_user(database, admin=True)
    async with database.unit_of_work() as s:
        await s.execute(update(User).values(password_hash=weak))
    async with serve(dashboard_app(database)) as client:
        assert (await sign_in_with_password(client, email)).status == 303
    [user] = await _users(database)
    assert user.password_hash != weak
    assert not password_needs_rehash(user.password_hash)
    assert verify_password(user.password_hash, PASSWORD)


async def test_every_dashboard_page_and_button_needs_a_session(database: Database) -> None:
    public = {
        "/login",
        "/login/link",
        "/healthz",
        "/readyz",
        "/metrics",
        "/telegram/webhook",
        "/auth/facebook/callback",  # Facebook's redirect: the signed state is its credential
    }
    dashboard_routes = [r for r in ROUTES if r.path not in public]  # type: ignore[attr-defined]
    assert len(dashboard_routes) >= 10
    async with serve(dashboard_app(database)) as client:
        for route in dashboard_routes:
            path = route.path.replace("{piece_id}", "0" * 32).replace("{action}", "approve")
            response = await client.request(route.method, path, allow_redirects=False)
            assert response.status == 303, (route.method, path, response.status)
            assert response.headers["Location"].startswith("/login?next=")


async def test_pages_carry_the_security_headers(database: Database) -> None:
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        for path in ("/", "/login", "/drafts"):
            response = await client.get(path)
            policy = response.headers["Content-Security-Policy"]
            assert "default-src 'none'" in policy and "script-src" not in policy
            assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Referrer-Policy"] == "same-origin"
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_without_a_dashboard_its_routes_are_404_and_503_while_starting(
    database: Database,
) -> None:
    async with serve(build_web_app(probes={})) as client:
        for path in ("/", "/login", "/drafts", "/audit.csv"):
            assert (await client.get(path, allow_redirects=False)).status == 404
    async with serve(dashboard_app(None)) as client:
        response = await client.get("/login/link?token=x")
        assert response.status == 503 and "starting" in await response.text()


def test_the_process_serves_the_dashboard_with_secure_cookies_under_https(
    tmp_path: object,
) -> None:
    from bot.app import build_application
    from rltr_mktg.process import dashboard
    from services.settings import load_settings

    def settings(public_url: str) -> object:
        return load_settings(
            telegram_bot_token="123456:" + "A" * 35,
            public_url=public_url,
            listings_base_url="https://www.holidaybuilders.com/homes/",
            data_dir=tmp_path,
            _env_file=None,
        )

    for url, secure in (("https://dash.example.com", True), ("", False)):
        conf = settings(url)
        app = build_application(conf, with_jobs=False)  # type: ignore[arg-type]
        made = dashboard(conf, app)  # type: ignore[arg-type]
        assert made.secure_cookies is secure
        assert made.image_origin == "https://www.holidaybuilders.com"
        assert made.draft_sync is not None and made.database() is None  # not started yet
