"""Required disclosure: the agent's brokerage and "Equal Housing Opportunity" in every post.

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


def disclosure_line(agent: AgentProfile) -> str:
    """'Sunshine Realty · Equal Housing Opportunity' (or just the latter without a brokerage)."""
    if agent.company and agent.company.strip():
        return f"{agent.company.strip()} · {EQUAL_HOUSING_OPPORTUNITY}"
    return EQUAL_HOUSING_OPPORTUNITY


def missing_disclosure(text: str, agent: AgentProfile) -> list[str]:
    """The required pieces `text` lacks (case- and spacing-insensitive)."""
    flat = _flatten(text)
    missing: list[str] = []
    if agent.company and agent.company.strip() and _flatten(agent.company) not in flat:
        missing.append(agent.company.strip())
    if _flatten(EQUAL_HOUSING_OPPORTUNITY) not in flat:
        missing.append(EQUAL_HOUSING_OPPORTUNITY)
    return missing


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
