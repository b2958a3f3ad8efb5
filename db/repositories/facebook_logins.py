"""Connect with Facebook: single-use login states and the Pages offered after a login.

States never reach the database: callers pass their SHA-256. Page tokens are stored only
as the caller encrypted them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, FacebookLogin, FacebookLoginPage


@dataclass(frozen=True)
class OfferedPage:
    """A Page (and its linked Instagram account) to store as an offer."""

    page_id: str
    page_name: str
    page_token_encrypted: str
    ig_user_id: str | None
    ig_username: str | None


async def create_login(
    session: AsyncSession, *, agent_id: uuid.UUID, state_hash: str, expires_at: datetime
) -> None:
    """Record a login link given to an agent (its state's hash)."""
    session.add(FacebookLogin(agent_id=agent_id, state_hash=state_hash, expires_at=expires_at))
    await session.flush()


async def claim_login(
    session: AsyncSession, *, state_hash: str, agent_id: uuid.UUID, now: datetime
) -> uuid.UUID | None:
    """Use up the agent's unused, unexpired login in one compare-and-set; its id, or None
    (two redirects at once: only one gets it)."""
    result = await session.execute(
        update(FacebookLogin)
        .where(
            FacebookLogin.state_hash == state_hash,
            FacebookLogin.agent_id == agent_id,
            FacebookLogin.used_at.is_(None),
            FacebookLogin.expires_at > now,
        )
        .values(used_at=now)
        .returning(FacebookLogin.id)
    )
    row = result.first()
    return None if row is None else row[0]


async def login_state(
    session: AsyncSession, state_hash: str
) -> tuple[datetime, datetime | None] | None:
    """(expires_at, used_at) of a login, or None when there is no such login."""
    row = (
        await session.execute(
            select(FacebookLogin.expires_at, FacebookLogin.used_at).where(
                FacebookLogin.state_hash == state_hash
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def agent_chat(session: AsyncSession, agent_id: uuid.UUID) -> int | None:
    """The Telegram chat of an active agent, or None."""
    row = (
        await session.execute(
            select(Agent.telegram_chat_id).where(Agent.id == agent_id, Agent.is_active.is_(True))
        )
    ).first()
    return None if row is None or row[0] is None else int(row[0])


async def offer_pages(
    session: AsyncSession,
    *,
    login_id: uuid.UUID,
    agent_id: uuid.UUID,
    pages: list[OfferedPage],
    expires_at: datetime,
) -> list[FacebookLoginPage]:
    """Store the Pages a login found, replacing the agent's earlier unpicked offers."""
    await session.execute(delete(FacebookLoginPage).where(FacebookLoginPage.agent_id == agent_id))
    rows = [
        FacebookLoginPage(
            login_id=login_id,
            agent_id=agent_id,
            page_id=p.page_id,
            page_name=p.page_name,
            page_token_encrypted=p.page_token_encrypted,
            ig_user_id=p.ig_user_id,
            ig_username=p.ig_username,
            expires_at=expires_at,
        )
        for p in pages
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def offered_page(
    session: AsyncSession, *, offer_id: uuid.UUID, agent_id: uuid.UUID, now: datetime
) -> FacebookLoginPage | None:
    """The agent's unexpired offer with this id, or None."""
    return (
        await session.execute(
            select(FacebookLoginPage).where(
                FacebookLoginPage.id == offer_id,
                FacebookLoginPage.agent_id == agent_id,
                FacebookLoginPage.expires_at > now,
            )
        )
    ).scalar_one_or_none()


async def drop_offers(session: AsyncSession, login_id: uuid.UUID) -> int:
    """Delete every Page offered by one login (their tokens with them); how many."""
    result = await session.execute(
        delete(FacebookLoginPage).where(FacebookLoginPage.login_id == login_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_expired(session: AsyncSession, *, now: datetime, logins_before: datetime) -> None:
    """Forget expired offers (their tokens), and logins that expired before `logins_before`
    (with any offers they still hold)."""
    await session.execute(delete(FacebookLoginPage).where(FacebookLoginPage.expires_at <= now))
    await session.execute(delete(FacebookLogin).where(FacebookLogin.expires_at <= logins_before))
