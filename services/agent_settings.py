"""An agent's own settings: which notifications reach Telegram, posting times, quiet hours,
time zone. A toggle locks the agent's row first, so two quick taps never undo each other.
"""

from __future__ import annotations

import functools
import re
import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent
from db.repositories import agent_settings as repo
from db.repositories import agents as agents_repo
from db.status import NotificationType
from services.errors import InvalidInputError, NotAllowedError
from services.notifying.notification_rows import NOTIFICATION_LABELS, type_enabled
from services.scheduling import DEFAULT_POSTING_TIMES, normalize_times, parse_hhmm

NOT_AN_AGENT = "This command is for agents; ask your administrator for an invite link."
MAX_POSTING_TIMES = 4

# Short, stable keys for the toggle buttons (callback data allows only a few characters).
TOGGLE_KEYS: dict[str, str] = {
    "draft": NotificationType.CONTENT_AWAITING_APPROVAL,
    "new": NotificationType.LISTING_INGESTED,
    "price": NotificationType.LISTING_PRICE_CHANGED,
    "sold": NotificationType.LISTING_SOLD,
    "posted": NotificationType.POST_SUCCESS,
    "failed": NotificationType.POST_FAILED,
    "token": NotificationType.TOKEN_EXPIRING,
    "digest": NotificationType.WEEKLY_DIGEST,
}
_KEY_OF_TYPE = {value: key for key, value in TOGGLE_KEYS.items()}


@dataclass(frozen=True)
class NotificationToggle:
    """One notification type as the settings screen shows it."""

    key: str
    notification_type: str
    label: str
    enabled: bool


@dataclass(frozen=True)
class AgentSettings:
    """Everything /settings shows; `*_is_default` when the agent never set it."""

    agent_id: uuid.UUID
    agent_name: str
    toggles: tuple[NotificationToggle, ...]
    posting_times: tuple[str, ...]
    posting_times_is_default: bool
    quiet_hours: tuple[str, str] | None
    timezone: str
    timezone_is_default: bool
    license_number: str | None = None
    reminder_hours: float | None = None  # None: DRAFT_REMINDER_HOURS; 0: off


def settings_of(agent: Agent, *, default_timezone: str) -> AgentSettings:
    """The agent's settings with the defaults filled in."""
    prefs = agent.notification_preferences
    toggles = tuple(
        NotificationToggle(
            key=_KEY_OF_TYPE[kind],
            notification_type=kind,
            label=label,
            enabled=type_enabled(prefs, kind),
        )
        for kind, label in NOTIFICATION_LABELS.items()
        if kind in _KEY_OF_TYPE
    )
    times = normalize_times(agent.posting_times or ())
    quiet = (
        (agent.quiet_hours_start, agent.quiet_hours_end)
        if agent.quiet_hours_start and agent.quiet_hours_end
        else None
    )
    return AgentSettings(
        agent_id=agent.id,
        agent_name=agent.name,
        toggles=toggles,
        posting_times=tuple(times or DEFAULT_POSTING_TIMES),
        posting_times_is_default=not times,
        quiet_hours=quiet,
        timezone=agent.timezone or default_timezone,
        timezone_is_default=not agent.timezone,
        license_number=agent.license_number,
        reminder_hours=agent.draft_reminder_hours,
    )


async def require_agent(session: AsyncSession, telegram_user_id: int) -> Agent:
    """The active agent linked to this Telegram user; NotAllowedError for anyone else."""
    agent = await agents_repo.get_agent_by_telegram_user(session, telegram_user_id)
    if agent is None or not agent.is_active:
        raise NotAllowedError(NOT_AN_AGENT)
    return agent


async def load_settings(
    session: AsyncSession, *, telegram_user_id: int, default_timezone: str
) -> AgentSettings:
    """The settings of the agent linked to this Telegram user."""
    agent = await require_agent(session, telegram_user_id)
    return settings_of(agent, default_timezone=default_timezone)


async def set_notification(
    session: AsyncSession,
    *,
    agent_id: uuid.UUID,
    telegram_user_id: int,
    key: str,
    enabled: bool,
    default_timezone: str,
) -> AgentSettings:
    """Turn one notification type on or off (idempotent, so a double tap is harmless)."""
    kind = TOGGLE_KEYS.get(key)
    if kind is None:
        raise InvalidInputError("This button is out of date; send /settings for a fresh one.")
    agent = await repo.lock_agent(session, agent_id)
    if agent is None or agent.telegram_user_id != telegram_user_id or not agent.is_active:
        raise NotAllowedError("These settings belong to another agent.")
    prefs = dict(agent.notification_preferences or {})
    if type_enabled(prefs, kind) != enabled:
        prefs[kind] = enabled
        # A new dict, so the JSON column is seen as changed.
        agent.notification_preferences = prefs
        await session.flush()
    return settings_of(agent, default_timezone=default_timezone)


def parse_posting_times(args: Sequence[str]) -> list[str]:
    """1-4 'HH:MM' times → sorted, de-duplicated; InvalidInputError with an example."""
    values = [part for arg in args for part in arg.replace(",", " ").split()]
    if not values:
        raise InvalidInputError("Give one to four times of day, for example: /times 09:00 17:30")
    for value in values:
        try:
            parse_hhmm(value)
        except ValueError:
            raise InvalidInputError(
                f"“{value[:20]}” is not a 24-hour time; use times like: /times 09:00 17:30"
            ) from None
    times = normalize_times(values)
    if len(times) > MAX_POSTING_TIMES:
        raise InvalidInputError(
            f"At most {MAX_POSTING_TIMES} posting times a day, for example: /times 09:00 17:30"
        )
    return times


async def set_posting_times(
    session: AsyncSession, *, telegram_user_id: int, args: Sequence[str], default_timezone: str
) -> AgentSettings:
    """Store the agent's daily posting times (new approvals use them)."""
    times = parse_posting_times(args)
    agent = await require_agent(session, telegram_user_id)
    agent.posting_times = times
    await session.flush()
    return settings_of(agent, default_timezone=default_timezone)


def parse_quiet_hours(args: Sequence[str]) -> tuple[str, str] | None:
    """'21:00 07:00' → ('21:00', '07:00'); 'off' → None; InvalidInputError otherwise."""
    values = [part for arg in args for part in arg.replace("-", " ").replace("–", " ").split()]
    if len(values) == 1 and values[0].lower() in {"off", "none", "no"}:
        return None
    example = "for example: /quiet 21:00 07:00, or /quiet off"
    if len(values) != 2:
        raise InvalidInputError(f"Give a start and an end time, {example}")
    try:
        start, end = (parse_hhmm(v).strftime("%H:%M") for v in values)
    except ValueError:
        raise InvalidInputError(f"Use 24-hour times, {example}") from None
    if start == end:
        raise InvalidInputError(f"Quiet hours must start and end at different times, {example}")
    return start, end


async def set_quiet_hours(
    session: AsyncSession, *, telegram_user_id: int, args: Sequence[str], default_timezone: str
) -> AgentSettings:
    """Store (or clear) the agent's quiet hours."""
    quiet = parse_quiet_hours(args)
    agent = await require_agent(session, telegram_user_id)
    agent.quiet_hours_start, agent.quiet_hours_end = quiet or (None, None)
    await session.flush()
    return settings_of(agent, default_timezone=default_timezone)


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    # Scanning the tz database takes tens of milliseconds: do it once per process.
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def resolve_timezone(name: str) -> str:
    """The canonical IANA name for `name` (case-insensitive); InvalidInputError if unknown."""
    wanted = name.strip()
    example = "for example: /timezone America/Chicago"
    if not wanted:
        raise InvalidInputError(f"Give a time zone name, {example}")
    canonical = _zones_by_lower_name().get(wanted.lower())
    if canonical is None:
        raise InvalidInputError(
            f"“{wanted[:40]}” is not a time zone I know; use a name like America/Chicago "
            "or America/New_York."
        )
    try:
        zoneinfo.ZoneInfo(canonical)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed above
        raise InvalidInputError(f"That time zone cannot be loaded here, {example}") from None
    return canonical


async def set_timezone(
    session: AsyncSession, *, telegram_user_id: int, name: str, default_timezone: str
) -> AgentSettings:
    """Store the agent's time zone (posting times and quiet hours are read in it)."""
    zone = resolve_timezone(name)
    agent = await require_agent(session, telegram_user_id)
    agent.timezone = zone
    await session.flush()
    return settings_of(agent, default_timezone=default_timezone)


LICENSE_USAGE = "Send your license number, for example: /license SL3412345, or /license off."
MAX_LICENSE_CHARS = 40
_LICENSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]*")


def parse_license(text: str) -> str | None:
    """'SL3412345' (a leading '#' dropped) → 'SL3412345'; 'off' → None; InvalidInputError
    for anything else, so a post never carries a typo'd sentence as a license."""
    value = " ".join(text.split()).lstrip("#").strip()
    if value.lower() in {"off", "none", "no", "clear"}:
        return None
    if not value:
        raise InvalidInputError(LICENSE_USAGE)
    if len(value) > MAX_LICENSE_CHARS or not _LICENSE.fullmatch(value):
        raise InvalidInputError(
            "A license number is letters, digits, dots, dashes or slashes, at most "
            f"{MAX_LICENSE_CHARS} characters. {LICENSE_USAGE}"
        )
    return value


async def set_license(
    session: AsyncSession, *, telegram_user_id: int, text: str, default_timezone: str
) -> AgentSettings:
    """Store (or clear) the agent's license number; new drafts and revisions carry it."""
    number = parse_license(text)
    agent = await require_agent(session, telegram_user_id)
    agent.license_number = number
    await session.flush()
    return settings_of(agent, default_timezone=default_timezone)


REMINDER_USAGE = "For example: /reminders 12 (hours, fractions allowed), or /reminders off."
MAX_REMINDER_HOURS = 24 * 30


def parse_reminder_hours(text: str) -> float:
    """'12' or '1.5' → hours; 'off' → 0; InvalidInputError otherwise."""
    value = text.strip().lower().removesuffix("h").removesuffix("hours").strip()
    if value in {"off", "none", "no", "0"}:
        return 0.0
    try:
        hours = float(value)
    except ValueError:
        raise InvalidInputError(REMINDER_USAGE) from None
    if not 0 < hours <= MAX_REMINDER_HOURS or hours != hours:
        raise InvalidInputError(
            f"Give between 0.25 and {MAX_REMINDER_HOURS} hours. {REMINDER_USAGE}"
        )
    return max(hours, 0.25)


async def set_reminder_hours(
    session: AsyncSession, *, telegram_user_id: int, text: str, default_timezone: str
) -> AgentSettings:
    """Store after how many hours an unanswered draft gets its reminder (0: never)."""
    hours = parse_reminder_hours(text)
    agent = await require_agent(session, telegram_user_id)
    agent.draft_reminder_hours = hours
    await session.flush()
    return settings_of(agent, default_timezone=default_timezone)
