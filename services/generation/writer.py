"""The writer interface: a request in, a validated `generated_text` dict out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from db.status import ContentPurpose
from services.generation.content import ContentKind
from services.generation.listing_facts import AgentProfile, ListingFacts


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """What to write: a draft for a ContentPurpose, or a "revision" (then `previous` and
    `feedback` are set, and `occasion` says what the draft was first written for, so a
    `just sold` post stays one)."""

    kind: ContentKind
    purpose: ContentPurpose | Literal["revision"]
    facts: ListingFacts
    agent: AgentProfile
    previous: dict[str, Any] | None = None
    feedback: str | None = None
    variant_seed: int = 0
    occasion: ContentPurpose | None = None

    @property
    def moment(self) -> ContentPurpose | Literal["revision"]:
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
