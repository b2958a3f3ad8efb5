"""Plain result values returned by the publishing functions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.publishing.graph_errors import Platform


@dataclass(frozen=True)
class PublishResult:
    """A published post: the id to store as `platform_post_id`, its link when known, and notes.

    `notes` holds one sentence per photo that was left out by the pre-flight checks.
    """

    platform_post_id: str
    permalink: str | None
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Quota:
    """Instagram's rolling 24-hour publishing quota, as reported by `content_publishing_limit`."""

    used: int
    total: int

    @property
    def remaining(self) -> int:
        """Posts that can still be published in the current window."""
        return max(0, self.total - self.used)


@dataclass(frozen=True)
class AccountInfo:
    """A validated account: what to show the agent and when its token stops working, if known."""

    account_id: str
    platform: Platform
    display_name: str
    expires_at: datetime | None


@dataclass(frozen=True)
class VisibleCall:
    """The call that makes a post visible is about to be made: Instagram's `media_publish`
    of `container_id` (created at `container_created_at`), or Facebook's post (no container)."""

    container_id: str | None = None
    container_created_at: datetime | None = None


# Awaited just before the visible call; it records the call durably (and raises to stop it).
BeforeVisibleCall = Callable[[VisibleCall], Awaitable[None]]
