"""Required disclosure in every post: the home's builder ("Home built by Holiday Builders"),
the agent's brokerage, their license number when they have one, and "Equal Housing
Opportunity".

Unlike the other checks this one fixes the draft: a missing piece is appended to the text
(before a closing block of hashtags), so what the agent approves is already compliant.
"""

from __future__ import annotations

import re
from typing import Any

from services.generation.checks.warning import CheckWarning
from services.generation.content import PLATFORM_FIELDS, ContentKind
from services.generation.listing_facts import AgentProfile

EQUAL_HOUSING_OPPORTUNITY = "Equal Housing Opportunity"

_HASHTAG_LINE = re.compile(r"^\s*(?:#[^\s#]+\s*)+$")


def builder_credit(builder: str) -> str:
    """'Home built by Holiday Builders'."""
    return f"Home built by {builder.strip()}"


def license_words(license_number: str) -> str:
    """'License #SL3412345'."""
    return f"License #{license_number.strip().lstrip('#').strip()}"


def _pieces(agent: AgentProfile) -> list[tuple[str, str]]:
    """(what must appear, what to add when it does not), in the order they are added."""
    pieces: list[tuple[str, str]] = []
    if agent.builder.strip():
        pieces.append((agent.builder.strip(), builder_credit(agent.builder)))
    if agent.company and agent.company.strip():
        pieces.append((agent.company.strip(), agent.company.strip()))
    if agent.license_number and agent.license_number.strip().lstrip("#").strip():
        number = agent.license_number.strip().lstrip("#").strip()
        pieces.append((number, license_words(number)))
    pieces.append((EQUAL_HOUSING_OPPORTUNITY, EQUAL_HOUSING_OPPORTUNITY))
    return pieces


def disclosure_line(agent: AgentProfile) -> str:
    """'Home built by Holiday Builders · Sunshine Realty · License #SL3412345 · Equal Housing
    Opportunity' (the brokerage and license only when the agent has them)."""
    return " · ".join(added for _, added in _pieces(agent))


def missing_disclosure(text: str, agent: AgentProfile) -> list[str]:
    """The required pieces `text` lacks (case- and spacing-insensitive), as they would be
    added."""
    flat = _flatten(text)
    return [added for needed, added in _pieces(agent) if _flatten(needed) not in flat]


def add_disclosure(text: str, agent: AgentProfile) -> str:
    """`text` with any missing disclosure pieces added on their own line."""
    missing = missing_disclosure(text, agent)
    if not missing:
        return text
    line = " · ".join(missing)
    lines = text.rstrip().split("\n")
    # Keep hashtags last on Instagram: insert above a trailing run of hashtag-only lines.
    cut = len(lines)
    while cut > 0 and _HASHTAG_LINE.match(lines[cut - 1]):
        cut -= 1
    if 0 < cut < len(lines):
        head = "\n".join(lines[:cut]).rstrip()
        tail = "\n".join(lines[cut:]).strip()
        return f"{head}\n\n{line}\n\n{tail}"
    return f"{text.rstrip()}\n\n{line}"


def apply_disclosure(
    kind: ContentKind, content: dict[str, Any], agent: AgentProfile
) -> tuple[dict[str, Any], list[CheckWarning]]:
    """Content with the disclosure present in every platform text, and warnings for gaps it
    cannot fill (no brokerage on the agent's profile)."""
    fixed = dict(content)
    for name in PLATFORM_FIELDS[kind]:
        value = fixed.get(name)
        if isinstance(value, str):
            fixed[name] = add_disclosure(value, agent)
    warnings: list[CheckWarning] = []
    if not (agent.company and agent.company.strip()):
        warnings.append(
            CheckWarning(
                kind="disclosure",
                message=(
                    "The agent's profile has no brokerage name, so the post only carries "
                    "“Equal Housing Opportunity”."
                ),
                phrase=None,
                suggestion="Add the brokerage (company) to the agent's profile, then revise.",
            )
        )
    return fixed, warnings


def _flatten(text: str) -> str:
    return " ".join(text.lower().split())
