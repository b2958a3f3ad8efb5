"""Agent onboarding: creating agents and single-use Telegram invites."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.errors import DuplicateError
from db.models import Agent
from db.repositories import agents as agents_repo
from services.errors import ConflictError, InvalidInputError
from services.scraping.agent_assignment import assign_existing_listings

INVITE_TTL = timedelta(days=7)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewAgent:
    """An agent just created, with the invite token to hand over (shown once)."""

    agent: Agent
    invite_token: str


def is_email(text: str) -> bool:
    """Whether `text` looks like an email address (something@domain.tld, no spaces)."""
    return bool(_EMAIL.match(text))


def hash_invite_token(token: str) -> str:
    """What the database stores of an invite token."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite_link(bot_username: str, token: str) -> str:
    """The t.me deep link that opens the bot with `/start <token>`."""
    return f"https://t.me/{bot_username}?start={token}"


async def create_invite(session: AsyncSession, agent_id: object) -> str:
    """A fresh single-use invite for an agent; returns the token (stored hashed)."""
    # 24 bytes → 32 url-safe chars: within Telegram's 64-char deep-link limit.
    token = secrets.token_urlsafe(24)
    await agents_repo.create_invite(
        session,
        agent_id,  # type: ignore[arg-type]
        hash_invite_token(token),
        utcnow() + INVITE_TTL,
    )
    return token


async def add_agent(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    phone: str | None = None,
    company: str | None = None,
) -> NewAgent:
    """Create an agent and their first invite."""
    email = email.strip()
    if not is_email(email):
        raise InvalidInputError(f"{email!r} is not an email address; check it and try again.")
    if not name.strip():
        raise InvalidInputError("The agent needs a name; add their full name after the email.")
    try:
        agent = await agents_repo.create_agent(
            session, email=email, name=name, phone=phone, company=company
        )
    except DuplicateError:
        raise ConflictError(
            f"An agent with email {email.lower()} already exists; use /agents to see them."
        ) from None
    await assign_existing_listings(session, agent.id)
    token = await create_invite(session, agent.id)
    return NewAgent(agent=agent, invite_token=token)


@dataclass(frozen=True)
class Linked:
    """An agent whose Telegram account is now linked."""

    agent: Agent
    already_linked: bool


async def redeem_invite(
    session: AsyncSession, *, token: str, telegram_user_id: int, chat_id: int
) -> Linked:
    """Link the Telegram user to the invite's agent; the invite is used up."""
    now = utcnow()
    other = await agents_repo.get_agent_by_telegram_user(session, telegram_user_id)
    agent_id = await agents_repo.claim_invite(
        session, hash_invite_token(token.strip()), telegram_user_id, now
    )
    if agent_id is None:
        raise InvalidInputError(
            "This invite link is not valid any more; ask your administrator for a new one."
        )
    if other is not None and other.id != agent_id:
        # Raising rolls the unit of work back, so the invite stays unused.
        raise ConflictError(
            f"Your Telegram account is already linked to {other.email}; ask your administrator "
            "to sort it out."
        )
    agent = await agents_repo.get_agent(session, agent_id)
    if agent is None:  # pragma: no cover - the invite cascades with its agent
        raise InvalidInputError("This invite belongs to nobody; ask your administrator.")
    already = agent.telegram_user_id == telegram_user_id
    agent.telegram_user_id = telegram_user_id
    agent.telegram_chat_id = chat_id
    agent.telegram_unreachable_at = None
    await session.flush()
    return Linked(agent=agent, already_linked=already)


async def welcome_back(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int
) -> Agent | None:
    """A linked agent said /start: make sure messages reach them again."""
    agent = await agents_repo.get_agent_by_telegram_user(session, telegram_user_id)
    if agent is None:
        return None
    agent.telegram_chat_id = chat_id
    agent.telegram_unreachable_at = None
    await session.flush()
    return agent
