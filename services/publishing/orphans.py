"""What became of a post whose publisher died: the platform's answer, before any retry.

    Instagram, container recorded: PUBLISHED → find the media (its link); FINISHED or
      IN_PROGRESS and younger than 24 h → publish that container now; EXPIRED, ERROR or
      too old → it never went out: publish anew.
    Facebook, call recorded: the post's text among the Page's posts since the call →
      success; absent once the call's own deadline plus a safety margin has passed → it
      never went out: publish anew; absent before that → look again next round.
    No call recorded: the visible call was never made (it is recorded, committed, before
      it is made), so it never went out.

No database here: orphan_settling asks, then records the verdict.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.publishing.graph_client import GraphClient
from services.publishing.graph_errors import Platform
from services.publishing.instagram import publish_container, wait_until_finished
from services.publishing.platform_lookup import (
    FoundPost,
    container_status,
    find_facebook_post,
    find_instagram_media,
)
from services.publishing.results import PublishResult

log = logging.getLogger(__name__)

# Meta expires a container 24 h after creation; one that old is never published, and one
# close to it is not either, so that the publish cannot race the expiry.
CONTAINER_MAX_AGE = timedelta(hours=23)
# Graph may finish a request whose client is gone. After the client's own deadline (its
# timeout × attempts, plus back-off) this margin covers the server finishing a request it
# had already received; see VISIBLE_CALL_MARGIN in the report for how it was chosen.
VISIBLE_CALL_MARGIN = timedelta(seconds=30)
# Clock skew allowed between this host and the platform when reading "posts since".
CLOCK_SKEW = timedelta(minutes=2)

VerdictKind = Literal["published", "not_published", "publish_container", "wait"]


@dataclass(frozen=True)
class Orphan:
    """What the database knows about an orphaned `sent` post."""

    platform: Platform
    account_id: str
    text: str
    claimed_at: datetime | None
    platform_call_at: datetime | None
    container_id: str | None
    container_created_at: datetime | None


@dataclass(frozen=True)
class Verdict:
    """The platform's answer: `found` for published, `why` for the log."""

    kind: VerdictKind
    why: str
    found: FoundPost | None = None


class Reconciler:
    """Asks the Graph about orphaned posts (reads bounded and retried by `client`)."""

    def __init__(
        self,
        client: GraphClient,
        *,
        margin: timedelta = VISIBLE_CALL_MARGIN,
        poll_interval_s: float = 1.0,
        poll_timeout_s: float = 60.0,
    ) -> None:
        self.client = client
        self.margin = margin
        self._poll_interval_s = poll_interval_s
        self._poll_timeout_s = poll_timeout_s

    def settle_deadline(self, call_at: datetime) -> datetime:
        """After this moment a visible call made at `call_at` has certainly ended."""
        return call_at + timedelta(seconds=self.client.call_deadline_s) + self.margin

    async def check(self, orphan: Orphan, token: str, now: datetime) -> Verdict:
        """The platform's verdict; raises `PublishError` when it cannot be asked now."""
        if orphan.platform_call_at is None:
            return Verdict("not_published", "the visible call was never made")
        since = orphan.platform_call_at - CLOCK_SKEW
        if orphan.platform == "instagram":
            return await self._instagram(orphan, token, now, since)
        found = await find_facebook_post(self.client, orphan.account_id, token, orphan.text, since)
        if found is not None:
            return Verdict("published", "the post is on the Page", found)
        if now >= self.settle_deadline(orphan.platform_call_at):
            return Verdict("not_published", "not on the Page after the call's deadline")
        return Verdict("wait", "not on the Page yet, and the call may still finish")

    async def _instagram(
        self, orphan: Orphan, token: str, now: datetime, since: datetime
    ) -> Verdict:
        if orphan.container_id is None:
            found = await find_instagram_media(
                self.client, orphan.account_id, token, orphan.text, since
            )
            if found is not None:
                return Verdict("published", "the caption is among the recent media", found)
            return Verdict("not_published", "no container was recorded and no media matches")
        status = await container_status(self.client, orphan.container_id, token)
        if status == "PUBLISHED":
            found = await find_instagram_media(
                self.client, orphan.account_id, token, orphan.text, since
            )
            # Published for certain; without the media in the list only its link is missing.
            return Verdict(
                "published",
                "the container is PUBLISHED",
                found or FoundPost(f"container:{orphan.container_id}", None),
            )
        created = orphan.container_created_at or orphan.platform_call_at
        too_old = created is None or now - created >= CONTAINER_MAX_AGE
        if status in ("FINISHED", "IN_PROGRESS") and not too_old:
            return Verdict("publish_container", f"the container is {status}")
        return Verdict("not_published", f"the container is {status or 'unknown'}, made anew")

    async def publish_container(self, orphan: Orphan, token: str) -> PublishResult:
        """Wait for the recorded container to be FINISHED, then `media_publish` it."""
        assert orphan.container_id is not None
        await wait_until_finished(
            self.client,
            orphan.container_id,
            token,
            poll_interval_s=self._poll_interval_s,
            poll_timeout_s=self._poll_timeout_s,
        )
        return await publish_container(self.client, orphan.account_id, orphan.container_id, token)
