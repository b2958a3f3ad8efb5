"""The writer interface: a request in, a validated `generated_text` dict out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from services.generation.content import ContentKind
from services.generation.listing_facts import AgentProfile, ListingFacts

Purpose = Literal[
    "new_listing",
    "price_improvement",
    "flyer",
    "revision",
    "now_selling",
    "just_sold",
    "back_on_market",
]
# The moments of a home's life after it was first listed (PRODUCT.md §10).
LIFECYCLE: frozenset[str] = frozenset({"now_selling", "just_sold", "back_on_market"})


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """What to write. `previous` and `feedback` are set for revisions, and `occasion` says
    what a revised draft was first written for (a `just sold` post stays one)."""

    kind: ContentKind
    purpose: Purpose
    facts: ListingFacts
    agent: AgentProfile
    previous: dict[str, Any] | None = None
    feedback: str | None = None
    variant_seed: int = 0
    occasion: Purpose | None = None

    @property
    def moment(self) -> Purpose:
        """What the draft announces: the purpose, or for a revision its occasion."""
        if self.purpose == "revision" and self.occasion is not None:
            return self.occasion
        return self.purpose


@dataclass(frozen=True, slots=True)
class WriteResult:
    """A writer's output. `note` tells the agent plainly what could not be done, if anything."""

    content: dict[str, Any]
    writer: str
    usage_tokens: int
    note: str | None = None


class GenerationFailed(Exception):
    """No usable draft. `retryable` says whether the next pass may succeed without anyone acting."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Writer(Protocol):
    """Anything that turns a WriteRequest into content."""

    async def write(self, req: WriteRequest) -> WriteResult:
        """Write one draft, or raise GenerationFailed."""
        ...
