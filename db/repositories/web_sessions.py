"""Dashboard sign-ins: sessions, single-use login links, failed password attempts.

Tokens never reach the database: callers pass their SHA-256. Every check of a session
re-reads its user and the user's agent, so deactivating either ends the session at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.models import Agent, LoginAttempt, LoginLink, User, WebSession


@dataclass(frozen=True)
class SignedIn:
    """A live session and who it belongs to."""

    session_id: uuid.UUID
    last_seen_at: datetime
    flash: str | None
    user_id: uuid.UUID
    email: str
    is_admin: bool
    agent_id: uuid.UUID | None
    agent_name: str | None
    agent_timezone: str | None
    # False when the user or the user's agent was deactivated.
    active: bool


@dataclass(frozen=True)
class Credentials:
    """What a password sign-in checks."""

    user_id: uuid.UUID
    password_hash: str
    active: bool


def _user_active() -> ColumnElement[bool]:
    # A user with an agent is active only while that agent is; NULL is_active is active.
    return and_(func.coalesce(User.is_active, true()), func.coalesce(Agent.is_active, true()))


async def credentials(session: AsyncSession, email: str) -> Credentials | None:
    """The password hash of the user with this email (lower-cased), and whether the user
    (and the user's agent) is active."""
    row = (
        await session.execute(
            select(User.id, User.password_hash, _user_active())
            .select_from(User)
            .outerjoin(Agent, Agent.id == User.agent_id)
            .where(User.email == email)
        )
    ).first()
    return None if row is None else Credentials(row[0], row[1], bool(row[2]))


async def user_is_active(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Whether the user exists and it (and its agent) is active."""
    row = (
        await session.execute(
            select(_user_active())
            .select_from(User)
            .outerjoin(Agent, Agent.id == User.agent_id)
            .where(User.id == user_id)
        )
    ).first()
    return bool(row and row[0])


async def record_login(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, password_hash: str | None = None
) -> None:
    """Write `last_login_at` (and a re-made password hash when given)."""
    values: dict[str, object] = {"last_login_at": now}
    if password_hash is not None:
        values["password_hash"] = password_hash
    await session.execute(update(User).where(User.id == user_id).values(values))


# -- sessions ----------------------------------------------------------------------------


async def create_session(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    token_hash: str,
    now: datetime,
    expires_at: datetime,
) -> uuid.UUID:
    """Store a new session; returns its id."""
    row = WebSession(
        id=uuid.uuid4(),
        user_id=user_id,
        token_hash=token_hash,
        created_at=now,
        last_seen_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row.id


async def find_session(
    session: AsyncSession, token_hash: str, *, now: datetime, idle_since: datetime
) -> SignedIn | None:
    """The session with this token if it has not ended, expired or gone idle (seen
    before `idle_since`), with its user; one query."""
    row = (
        await session.execute(
            select(
                WebSession.id,
                WebSession.last_seen_at,
                WebSession.flash,
                User.id,
                User.email,
                User.is_admin,
                User.agent_id,
                Agent.name,
                Agent.timezone,
                _user_active(),
            )
            .select_from(WebSession)
            .join(User, User.id == WebSession.user_id)
            .outerjoin(Agent, Agent.id == User.agent_id)
            .where(
                WebSession.token_hash == token_hash,
                WebSession.ended_at.is_(None),
                WebSession.expires_at > now,
                WebSession.last_seen_at > idle_since,
            )
        )
    ).first()
    if row is None:
        return None
    return SignedIn(
        session_id=row[0],
        last_seen_at=row[1],
        flash=row[2],
        user_id=row[3],
        email=row[4],
        is_admin=bool(row[5]),
        agent_id=row[6],
        agent_name=row[7],
        agent_timezone=row[8],
        active=bool(row[9]),
    )


async def touch_session(
    session: AsyncSession, session_id: uuid.UUID, now: datetime, *, clear_flash: bool
) -> None:
    """Note the session was used now (and drop its shown flash message)."""
    values: dict[str, object] = {"last_seen_at": now}
    if clear_flash:
        values["flash"] = None
    await session.execute(update(WebSession).where(WebSession.id == session_id).values(values))


async def set_flash(session: AsyncSession, session_id: uuid.UUID, text: str) -> None:
    """Keep one sentence for the session's next page."""
    await session.execute(update(WebSession).where(WebSession.id == session_id).values(flash=text))


async def end_session(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    """End a session (logout, or its user was deactivated)."""
    await session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.ended_at.is_(None))
        .values(ended_at=now, flash=None)
    )


# -- login links -------------------------------------------------------------------------


async def create_login_link(
    session: AsyncSession, *, user_id: uuid.UUID, token_hash: str, expires_at: datetime
) -> None:
    """Store a single-use login link (its token's hash)."""
    session.add(LoginLink(user_id=user_id, token_hash=token_hash, expires_at=expires_at))
    await session.flush()


async def claim_login_link(
    session: AsyncSession, token_hash: str, now: datetime
) -> uuid.UUID | None:
    """Use up a valid link in one compare-and-set; returns its user, or None when the link
    is unknown, used or expired (two clicks at once: only one gets the user)."""
    result = await session.execute(
        update(LoginLink)
        .where(
            LoginLink.token_hash == token_hash,
            LoginLink.used_at.is_(None),
            LoginLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(LoginLink.user_id)
    )
    row = result.first()
    return None if row is None else row[0]


async def link_is_usable(session: AsyncSession, token_hash: str, now: datetime) -> bool:
    """Whether a link exists, is unused and has not expired (nothing is changed)."""
    found = await session.execute(
        select(LoginLink.id).where(
            LoginLink.token_hash == token_hash,
            LoginLink.used_at.is_(None),
            LoginLink.expires_at > now,
        )
    )
    return found.first() is not None


# -- users a login link is for -----------------------------------------------------------


async def user_for_agent(session: AsyncSession, agent_id: uuid.UUID) -> User | None:
    """The dashboard user linked to this agent, if any."""
    result = await session.execute(select(User).where(User.agent_id == agent_id))
    return result.scalar_one_or_none()


async def admin_user_for_telegram(session: AsyncSession, telegram_user_id: int) -> User | None:
    """The user `/dashboard` made for this admin's Telegram account, if any."""
    result = await session.execute(select(User).where(User.telegram_user_id == telegram_user_id))
    return result.scalar_one_or_none()


# -- failed sign-ins ---------------------------------------------------------------------


async def count_failures(
    session: AsyncSession, *, address: str, email: str, since: datetime
) -> int:
    """Failed password sign-ins for this (address, email) pair since `since`."""
    result = await session.execute(
        select(func.count()).where(
            LoginAttempt.address == address,
            LoginAttempt.email == email,
            LoginAttempt.attempted_at > since,
        )
    )
    return int(result.scalar_one())


async def record_failure(
    session: AsyncSession, *, address: str, email: str, now: datetime, forget_before: datetime
) -> None:
    """Remember one failed sign-in, and forget those too old to matter to anyone."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < forget_before))
    session.add(LoginAttempt(address=address, email=email, attempted_at=now))
    await session.flush()
