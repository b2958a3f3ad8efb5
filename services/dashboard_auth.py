"""Who may see the dashboard: users, passwords, sessions, login links, CSRF tokens.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256.
It ends at logout, after `SESSION_IDLE` without a request, `SESSION_LIFETIME` after the
sign-in, or as soon as the user or the user's agent is deactivated. Each form carries a
CSRF token derived from the session token (an HMAC), so it is per session and needs no
storage. Password sign-ins are limited per (address, email) pair, counted in the database
so that every process sees the same attempts. Nothing here knows about HTTP.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import itertools
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import DuplicateError
from db.models import User
from db.repositories import agents as agents_repo
from db.repositories import users as users_repo
from db.repositories import web_sessions as repo
from services.crypto import hash_password, password_needs_rehash, verify_password
from services.errors import ACCOUNT_DEACTIVATED, ConflictError, InvalidInputError, NotAllowedError
from services.onboarding import hash_invite_token as hash_token
from services.onboarding import is_email

SESSION_IDLE = timedelta(hours=12)
SESSION_LIFETIME = timedelta(days=30)
LOGIN_LINK_TTL = timedelta(minutes=15)
FAILED_LOGIN_WINDOW = timedelta(minutes=1)
MAX_FAILED_LOGINS = 5
# last_seen_at is written at most this often: a page view is then usually a read only.
TOUCH_EVERY = timedelta(minutes=1)
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024

BAD_LOGIN = "That email and password do not match; check both and try again."
TOO_MANY_FAILURES = (
    "Too many failed sign-ins for this email from your address; wait a minute, then try again."
)
LINK_UNUSABLE = (
    "This sign-in link was used already or has expired; send /dashboard to the bot for a new one."
)
NOT_FOR_YOU = (
    "The dashboard is for agents and administrators; ask your administrator for an invite."
)
# Not an argon2 hash, so no password matches it: users made by /dashboard sign in by link.
NO_PASSWORD = "!no-password"  # noqa: S105 (a marker, not a secret)
_CSRF_CONTEXT = b"rltr-mktg dashboard csrf v1"
_COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "password123!",
        "passwordpassword",
        "123456789012",
        "1234567890123",
        "12345678901234",
        "qwertyuiop12",
        "qwertyuiopas",
        "qwerty123456",
        "qwertyqwerty",
        "1q2w3e4r5t6y",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "administrator",
        "admin1234567",
        "abc123456789",
        "abcdefghijkl",
        "realestate123",
        "realestate1234",
    }
)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of one request, and what the dashboard may show them."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    is_admin: bool
    # The agent whose data a non-admin user sees (None only for admins).
    agent_id: uuid.UUID | None
    agent_name: str | None
    timezone: str
    csrf_token: str
    # What the last action did, shown once.
    flash: str | None = None

    def scope(self, wanted_agent: uuid.UUID | None = None) -> uuid.UUID | None:
        """The agent id every query is limited to: the user's own agent, or for an admin
        the agent picked in a filter (None = everyone)."""
        return wanted_agent if self.is_admin else self.agent_id


@dataclass(frozen=True)
class SignIn:
    """A sign-in attempt: the new session's token, or one sentence saying why not."""

    token: str | None = None
    error: str | None = None


def csrf_token(session_token: str) -> str:
    """The CSRF token of every form shown in this session."""
    return hmac.new(session_token.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, given: str) -> bool:
    """Whether a submitted CSRF token belongs to this session (constant time)."""
    return hmac.compare_digest(csrf_token(session_token).encode(), given.encode())


def password_problem(password: str, email: str = "") -> str | None:
    """One sentence saying why `password` is too weak, or None when it will do."""
    if len(password) < MIN_PASSWORD_CHARS:
        return (
            f"The password is too short: use at least {MIN_PASSWORD_CHARS} characters "
            "(a few unrelated words work well)."
        )
    if len(password) > MAX_PASSWORD_CHARS:
        return f"The password is too long: use at most {MAX_PASSWORD_CHARS} characters."
    lowered = password.lower()
    local_part = email.lower().partition("@")[0]
    if (
        lowered in _COMMON_PASSWORDS
        or len(set(lowered)) <= 2
        or _is_run(lowered)
        or lowered in (email.lower(), local_part)
        or re.fullmatch(r"(.{1,4})\1+", lowered) is not None
    ):
        return (
            "That password is too common or too easy to guess; pick a less predictable one "
            f"of at least {MIN_PASSWORD_CHARS} characters."
        )
    return None


def _is_run(text: str) -> bool:
    """abcdef…, 123456…, or the same backwards."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


@functools.cache
def _decoy_hash() -> str:
    # Unknown emails are checked against this, so they take as long as known ones.
    return hash_password(secrets.token_urlsafe(16))


def _checkable(stored: str | None) -> str:
    return stored if stored is not None and stored.startswith("$argon2") else _decoy_hash()


async def add_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    agent_email: str | None = None,
    is_admin: bool = False,
) -> User:
    """A dashboard login for an agent (sees that agent's data) or an admin (sees all)."""
    email = email.strip().lower()
    if not is_email(email):
        raise InvalidInputError(f"{email!r} is not an email address; check it and try again.")
    if agent_email is None and not is_admin:
        raise InvalidInputError(
            "Say whose data this login sees: --agent AGENT_EMAIL for an agent, or --admin "
            "for everything."
        )
    problem = password_problem(password, email)
    if problem is not None:
        raise InvalidInputError(problem)
    agent_id: uuid.UUID | None = None
    if agent_email is not None:
        agent = await agents_repo.get_agent_by_email(session, agent_email)
        if agent is None:
            raise InvalidInputError(
                f"No agent has the email {agent_email.strip().lower()}; create the agent "
                "first with rltr-mktg add-agent."
            )
        agent_id = agent.id
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        return await users_repo.create_user(
            session, email=email, password_hash=password_hash, agent_id=agent_id, is_admin=is_admin
        )
    except DuplicateError as exc:
        if exc.field == "agent_id":
            raise ConflictError(
                f"The agent {agent_email} has a dashboard login already; use that one."
            ) from None
        raise ConflictError(f"A dashboard login for {email} exists already.") from None


async def sign_in_with_password(
    session: AsyncSession, *, email: str, password: str, address: str, now: datetime
) -> SignIn:
    """Check the password (rate limited per address and email), then start a session.

    A failure is recorded in the caller's unit of work, so it must commit either way.
    """
    email = email.strip().lower()[:320]
    failures = await repo.count_failures(
        session, address=address, email=email, since=now - FAILED_LOGIN_WINDOW
    )
    if failures >= MAX_FAILED_LOGINS:
        return SignIn(error=TOO_MANY_FAILURES)
    found = await repo.credentials(session, email)
    stored = found.password_hash if found is not None else None
    checked = _checkable(stored)
    matches = await asyncio.to_thread(verify_password, checked, password)
    if found is None or checked != stored or not matches:
        await repo.record_failure(
            session, address=address, email=email, now=now, forget_before=now - timedelta(hours=1)
        )
        return SignIn(error=BAD_LOGIN)
    if not found.active:
        return SignIn(error=ACCOUNT_DEACTIVATED)
    rehashed = None
    if password_needs_rehash(checked):
        rehashed = await asyncio.to_thread(hash_password, password)
    await repo.record_login(session, found.user_id, now, password_hash=rehashed)
    return SignIn(token=await _start_session(session, found.user_id, now))


async def sign_in_with_link(session: AsyncSession, *, token: str, now: datetime) -> SignIn:
    """Use up a login link (once, within its 15 minutes) and start a session."""
    user_id = await repo.claim_login_link(session, hash_token(token), now)
    if user_id is None:
        return SignIn(error=LINK_UNUSABLE)
    if not await repo.user_is_active(session, user_id):
        return SignIn(error=ACCOUNT_DEACTIVATED)
    await repo.record_login(session, user_id, now)
    return SignIn(token=await _start_session(session, user_id, now))


async def link_is_usable(session: AsyncSession, *, token: str, now: datetime) -> bool:
    """Whether a login link can still be used (it is not used up by asking)."""
    return await repo.link_is_usable(session, hash_token(token), now)


async def _start_session(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    await repo.create_session(
        session,
        user_id=user_id,
        token_hash=hash_token(token),
        now=now,
        expires_at=now + SESSION_LIFETIME,
    )
    return token


async def current_viewer(
    session: AsyncSession, *, token: str, default_timezone: str, now: datetime
) -> Viewer | None:
    """The signed-in user of a session token, or None when there is no live session.

    A session whose user (or agent) was deactivated is ended here.
    """
    found = await repo.find_session(
        session, hash_token(token), now=now, idle_since=now - SESSION_IDLE
    )
    if found is None:
        return None
    if not found.active or (found.agent_id is None and not found.is_admin):
        await repo.end_session(session, found.session_id, now)
        return None
    if found.flash is not None or now - found.last_seen_at >= TOUCH_EVERY:
        await repo.touch_session(
            session, found.session_id, now, clear_flash=found.flash is not None
        )
    return Viewer(
        session_id=found.session_id,
        user_id=found.user_id,
        email=found.email,
        is_admin=found.is_admin,
        agent_id=found.agent_id,
        agent_name=found.agent_name,
        timezone=found.agent_timezone or default_timezone,
        csrf_token=csrf_token(token),
        flash=found.flash,
    )


async def sign_out(session: AsyncSession, viewer: Viewer, now: datetime) -> None:
    """End the viewer's session."""
    await repo.end_session(session, viewer.session_id, now)


async def remember_outcome(session: AsyncSession, viewer: Viewer, text: str) -> None:
    """Keep one sentence (what an action did) for the viewer's next page."""
    await repo.set_flash(session, viewer.session_id, text[:500])


async def issue_login_link(
    session: AsyncSession, *, telegram_user_id: int, is_admin: bool, now: datetime
) -> str:
    """A single-use, 15-minute login link token for a linked agent or an admin.

    The first time, this makes the user: for an agent, a login linked to that agent (with
    the agent's email); for an admin's Telegram account, an admin login.
    """
    if is_admin:
        user = await repo.admin_user_for_telegram(session, telegram_user_id)
        if user is None:
            user = await users_repo.create_user(
                session,
                email=f"telegram-{telegram_user_id}@admins.invalid",
                password_hash=NO_PASSWORD,
                is_admin=True,
                telegram_user_id=telegram_user_id,
            )
    else:
        agent = await agents_repo.get_agent_by_telegram_user(session, telegram_user_id)
        if agent is None:
            raise NotAllowedError(NOT_FOR_YOU)
        if not agent.is_active:
            raise NotAllowedError(ACCOUNT_DEACTIVATED)
        user = await repo.user_for_agent(session, agent.id)
        if user is None:
            try:
                user = await users_repo.create_user(
                    session, email=agent.email, password_hash=NO_PASSWORD, agent_id=agent.id
                )
            except DuplicateError:
                raise ConflictError(
                    f"A dashboard login with your email {agent.email} exists but is not yours; "
                    "ask your administrator to sort it out."
                ) from None
    if user.is_active is False:
        raise NotAllowedError(ACCOUNT_DEACTIVATED)
    token = secrets.token_urlsafe(24)
    await repo.create_login_link(
        session, user_id=user.id, token_hash=hash_token(token), expires_at=now + LOGIN_LINK_TTL
    )
    return token
