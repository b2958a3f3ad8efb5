"""Connected Facebook Pages and Instagram accounts: connect, list, disconnect, expiry warnings.

Tokens are validated against the Graph before anything is stored, stored only encrypted,
and never logged or returned.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Agent, SocialMediaAccount
from db.repositories import account_connections, expiry_warnings
from db.repositories import agents as agents_repo
from db.status import NotificationType
from services.context import Database
from services.errors import InvalidInputError, NotAllowedError, ServiceError
from services.notifying.notification_rows import notify
from services.publishing import GraphClient, Platform, PublishError, validate_account
from services.publishing.graph_errors import service_name
from services.publishing.post_outcomes import settle_piece

log = logging.getLogger(__name__)

EXPIRY_WARNING = timedelta(days=7)
DISCONNECTED_BY_AGENT = "Disconnected by the agent."
PLATFORMS: tuple[Platform, ...] = ("facebook", "instagram")


@dataclass(frozen=True)
class AccountSummary:
    """What an agent may see about a connected account (never its token)."""

    id: uuid.UUID
    platform: str
    account_id: str
    display_name: str
    token_expires_at: datetime | None
    is_active: bool
    deactivated_reason: str | None

    @property
    def service(self) -> str:
        """Facebook or Instagram."""
        return "Instagram" if self.platform == "instagram" else "Facebook"


@dataclass(frozen=True)
class Connected:
    """A connected account; `reconnected` when it replaced an earlier connection."""

    account: AccountSummary
    reconnected: bool


@dataclass(frozen=True)
class Disconnected:
    """A disconnected account and how many scheduled posts to it were cancelled."""

    account: AccountSummary
    cancelled_posts: int


def summary(row: SocialMediaAccount) -> AccountSummary:
    """The shareable view of an account row."""
    return AccountSummary(
        id=row.id,
        platform=row.platform,
        account_id=row.account_id,
        display_name=row.display_name or row.account_id,
        token_expires_at=row.token_expires_at,
        is_active=bool(row.is_active),
        deactivated_reason=row.deactivated_reason,
    )


def parse_platform(value: str) -> Platform:
    """`facebook`/`fb` or `instagram`/`ig` (any case), else a one-sentence error."""
    word = value.strip().lower()
    if word in ("facebook", "fb"):
        return "facebook"
    if word in ("instagram", "ig"):
        return "instagram"
    raise InvalidInputError(f"Unknown platform {value!r}; use facebook or instagram.")


async def agent_for_telegram_user(session: AsyncSession, telegram_user_id: int) -> Agent:
    """The active agent linked to this Telegram user, or `NotAllowedError`."""
    agent = await agents_repo.get_agent_by_telegram_user(session, telegram_user_id)
    if agent is None or not agent.is_active:
        raise NotAllowedError(
            "Only agents can connect accounts; ask your administrator for an invite link."
        )
    return agent


async def agent_by_email(session: AsyncSession, email: str) -> Agent:
    """The agent with this email, or `InvalidInputError`."""
    agent = await agents_repo.get_agent_by_email(session, email)
    if agent is None:
        raise InvalidInputError(
            f"No agent has the email {email.strip()}; create them with `rltr-mktg add-agent`."
        )
    return agent


async def connect(
    database: Database,
    client: GraphClient,
    *,
    agent_id: uuid.UUID,
    platform: str,
    account_id: str,
    token: str,
    expires_at: datetime | None = None,
    refresh_token: str | None = None,
    now: datetime | None = None,
) -> Connected:
    """Validate the token on the Graph, then store the account encrypted (reconnect reactivates).

    The Graph call happens before the transaction. `expires_at` (when the agent knows it)
    and the expiry the Graph reports are both considered; the earlier wins. Raises
    `ServiceError` with one sentence for the person.
    """
    plat = parse_platform(platform)
    account_id, token = account_id.strip(), token.strip()
    if expires_at is not None and expires_at.tzinfo is None:
        raise InvalidInputError("The expiry date needs a time zone, e.g. 2027-01-31T00:00:00Z.")
    try:
        info = await validate_account(client, plat, account_id, token)
    except PublishError as exc:
        log.info(
            "account validation failed",
            extra={"platform": plat, "account_id": account_id, "kind": exc.kind},
        )
        if exc.retryable:
            raise ServiceError(exc.user_message, retryable=True) from None
        raise InvalidInputError(exc.user_message) from None
    known = [d for d in (expires_at, info.expires_at) if d is not None]
    token_expires_at = min(known) if known else None
    now = now or utcnow()
    if token_expires_at is not None and token_expires_at <= now:
        raise InvalidInputError(
            "This token has already expired; create a new one and connect again."
        )
    cipher = database.cipher
    async with database.unit_of_work() as session:
        row, existed = await account_connections.save_account(
            session,
            agent_id=agent_id,
            platform=plat,
            account_id=account_id,
            display_name=info.display_name[:200],
            access_token_encrypted=cipher.encrypt(token),
            refresh_token_encrypted=cipher.encrypt(refresh_token) if refresh_token else None,
            token_expires_at=token_expires_at,
            now=now,
        )
        result = Connected(summary(row), reconnected=existed)
    log.info(
        "account connected",
        extra={"platform": plat, "account_id": account_id, "reconnected": existed},
    )
    return result


async def list_accounts(session: AsyncSession, agent_id: uuid.UUID) -> list[AccountSummary]:
    """The agent's accounts, active ones first."""
    return [summary(row) for row in await account_connections.agent_accounts(session, agent_id)]


async def disconnect(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID,
    account_pk: uuid.UUID,
    now: datetime | None = None,
) -> Disconnected:
    """Turn the agent's account off and cancel its posts that were not sent yet.

    Disconnecting twice is harmless. Raises `NotAllowedError` when the account is not theirs.
    """
    now = now or utcnow()
    row = await account_connections.disconnect_account(
        session, account_pk=account_pk, agent_id=agent_id, reason=DISCONNECTED_BY_AGENT, now=now
    )
    if row is None:
        raise NotAllowedError("That account is not one of yours; see /accounts.")
    pieces = await account_connections.cancel_pending_for_account(session, account_pk, now=now)
    for piece_id in dict.fromkeys(pieces):
        # A draft whose other posts are all out is now complete.
        await settle_piece(session, piece_id, now)
    log.info("account disconnected", extra={"account": str(account_pk), "cancelled": len(pieces)})
    return Disconnected(summary(row), len(pieces))


@dataclass(frozen=True)
class AgentAccounts:
    """An agent's accounts as /accounts shows them; `timezone` is the agent's own, if set."""

    agent_id: uuid.UUID
    timezone: str | None
    accounts: list[AccountSummary]


async def accounts_of_telegram_user(session: AsyncSession, telegram_user_id: int) -> AgentAccounts:
    """The accounts of the active agent linked to this Telegram user (`NotAllowedError`)."""
    agent = await agent_for_telegram_user(session, telegram_user_id)
    return AgentAccounts(agent.id, agent.timezone, await list_accounts(session, agent.id))


@dataclass(frozen=True)
class DisconnectAnswer:
    """What a confirmed or declined Disconnect did, and the accounts to show after it."""

    disconnected: Disconnected | None
    accounts: AgentAccounts


async def answer_disconnect(
    database: Database, *, telegram_user_id: int, account_pk: uuid.UUID, confirmed: bool
) -> DisconnectAnswer:
    """The agent's answer to "Disconnect this account?": turn it off when `confirmed`.

    Raises `NotAllowedError` for someone who is no active agent, and what `disconnect`
    raises for an account that is not theirs.
    """
    async with database.unit_of_work() as session:
        agent = await agent_for_telegram_user(session, telegram_user_id)
        gone = (
            await disconnect(session, agent_id=agent.id, account_pk=account_pk)
            if confirmed
            else None
        )
        listed = await list_accounts(session, agent.id)
    return DisconnectAnswer(gone, AgentAccounts(agent.id, agent.timezone, listed))


async def warn_expiring_tokens(
    database: Database,
    *,
    default_timezone: str,
    now: datetime | None = None,
    warn_before: timedelta = EXPIRY_WARNING,
) -> int:
    """Write one `token_expiring` notification per account whose token ends within a week.

    Each account is warned once per connection (`expiry_warned_at`; reconnecting resets it).
    Returns how many warnings were written.
    """
    now = now or utcnow()
    async with database.unit_of_work() as session:
        due = await expiry_warnings.claim_expiry_warnings(
            session, expiring_before=now + warn_before, now=now
        )
        agents = await expiry_warnings.agents_by_id(session, list({d.agent_id for d in due}))
        for acc in due:
            agent = agents.get(acc.agent_id)
            if agent is None:
                continue
            await notify(
                session,
                agent,
                NotificationType.TOKEN_EXPIRING,
                _expiry_message(acc, agent.timezone or default_timezone, now),
                acc.account_pk,
            )
    return len(due)


def _expiry_message(acc: expiry_warnings.ExpiringAccount, timezone: str, now: datetime) -> str:
    svc = service_name("instagram" if acc.platform == "instagram" else "facebook")
    local = acc.token_expires_at.astimezone(ZoneInfo(timezone))
    day = f"{local:%b} {local.day}, {local.year}"
    if acc.token_expires_at <= now:
        return (
            f"The {svc} connection for {acc.account_name} expired on {day}; reconnect it with "
            "/connect so your posts can go out again."
        )
    return (
        f"The {svc} connection for {acc.account_name} expires on {day}; reconnect it with "
        "/connect before then so your posts keep going out."
    )
