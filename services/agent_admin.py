"""Admin changes to an agent: service areas, the marketing sign-off flag, the license number."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent
from db.repositories import agents as agents_repo
from db.status import AreaKind
from services.agent_settings import parse_license
from services.errors import InvalidInputError
from services.scraping.agent_assignment import assign_existing_listings

AREAS_USAGE = (
    'Use: /areas <email> city:Ocala community:"Marion Oaks" (or /areas <email> all to clear them).'
)
MARKETING_USAGE = "Use: /marketing <email> on, or /marketing <email> off."
MAX_AREA_CHARS = 200

_CLEAR_WORDS = frozenset({"all", "none", "clear"})
_ON_WORDS = frozenset({"on", "yes", "true", "1"})
_OFF_WORDS = frozenset({"off", "no", "false", "0"})
_KIND_RE = re.compile(r"\b(city|community)\s*:", re.IGNORECASE)
# Phones type “curly” quotes; treat them as the plain ones.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


@dataclass(frozen=True)
class AreasCommand:
    """A parsed /areas: whose areas, and the new (kind, value) pairs (empty = all homes)."""

    email: str
    areas: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AgentChange:
    """The agent after an admin change."""

    name: str
    email: str
    service_areas: tuple[tuple[str, str], ...] = ()
    requires_marketing_approval: bool = False
    license_number: str | None = None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def parse_areas_command(text: str) -> AreasCommand:
    """Parse `<email> city:Ocala community:"Marion Oaks"` (or `<email> all`).

    Multi-word values work with or without quotes; commas separate several values of
    one kind (`city:Ocala, Belleview`).
    """
    parts = text.translate(_QUOTES).strip().split(maxsplit=1)
    if not parts:
        raise InvalidInputError(AREAS_USAGE)
    email, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    if "@" not in email:
        raise InvalidInputError(f"Start with the agent's email. {AREAS_USAGE}")
    if rest.strip().lower() in _CLEAR_WORDS:
        return AreasCommand(email=email, areas=())
    markers = list(_KIND_RE.finditer(rest))
    if not markers or rest[: markers[0].start()].strip():
        raise InvalidInputError(f"Start each area with city: or community:. {AREAS_USAGE}")
    areas: list[tuple[str, str]] = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(rest)
        kind = AreaKind(marker.group(1).lower())
        raw = _unquote(rest[marker.end() : end])
        values = [_unquote(v) for v in raw.split(",")]
        if not any(values):
            raise InvalidInputError(f"{kind.value}: needs a name after it. {AREAS_USAGE}")
        for value in values:
            if len(value) > MAX_AREA_CHARS:
                raise InvalidInputError(f"“{value[:30]}…” is too long for an area name.")
            if value:
                areas.append((kind.value, value))
    return AreasCommand(email=email, areas=tuple(dict.fromkeys(areas)))


async def _agent_by_email(session: AsyncSession, email: str) -> Agent:
    agent = await agents_repo.get_agent_by_email(session, email)
    if agent is None:
        raise InvalidInputError(
            f"No agent has the email {email.strip().lower()[:80]}; /agents lists them."
        )
    return agent


async def set_areas(session: AsyncSession, command: AreasCommand) -> AgentChange:
    """Replace the agent's service areas (no areas: every home is theirs)."""
    agent = await _agent_by_email(session, command.email)
    await agents_repo.set_service_areas(session, agent.id, command.areas)
    # Homes already on the market that now match become theirs too (new homes are
    # assigned by the scrape pass itself).
    await assign_existing_listings(session, agent.id)
    stored = tuple(dict.fromkeys((kind, value.strip().lower()) for kind, value in command.areas))
    return AgentChange(
        name=agent.name,
        email=agent.email,
        service_areas=stored,
        requires_marketing_approval=bool(agent.requires_marketing_approval),
    )


def parse_on_off(word: str) -> bool:
    """'on' / 'off' (and yes/no, true/false) → bool; InvalidInputError otherwise."""
    lowered = word.strip().lower()
    if lowered in _ON_WORDS:
        return True
    if lowered in _OFF_WORDS:
        return False
    raise InvalidInputError(MARKETING_USAGE)


async def set_marketing_approval(
    session: AsyncSession, *, email: str, required: bool
) -> AgentChange:
    """Turn the agent's marketing sign-off on or off (applies to the next Approve)."""
    agent = await _agent_by_email(session, email)
    agent.requires_marketing_approval = required
    await session.flush()
    return AgentChange(name=agent.name, email=agent.email, requires_marketing_approval=required)


LICENSE_ADMIN_USAGE = "Use: /setlicense <email> <license number>, or /setlicense <email> off."


async def set_license(session: AsyncSession, *, email: str, text: str) -> AgentChange:
    """Set (or clear) an agent's license number; their next drafts name it."""
    if not text.strip():
        raise InvalidInputError(LICENSE_ADMIN_USAGE)
    number = parse_license(text)
    agent = await _agent_by_email(session, email)
    agent.license_number = number
    await session.flush()
    return AgentChange(
        name=agent.name,
        email=agent.email,
        requires_marketing_approval=bool(agent.requires_marketing_approval),
        license_number=number,
    )
