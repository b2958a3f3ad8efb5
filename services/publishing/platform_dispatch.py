"""One entry point for the publisher job: pre-flight checks, then the platform's flow."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from services.outbound import OutboundClient
from services.publishing.facebook import publish_facebook
from services.publishing.graph_client import GraphClient
from services.publishing.graph_errors import Platform, PublishError, service_name
from services.publishing.instagram import publish_instagram, publishing_quota
from services.publishing.preflight import check_caption, check_images
from services.publishing.results import BeforeVisibleCall, PublishResult, Quota

# How long one quota read stands in for the account's quota (about one publish round).
QUOTA_TTL_S = 60.0


class Publisher(Protocol):
    """What the publisher job needs; tests and benches may pass their own implementation."""

    async def publish(
        self,
        platform: Platform,
        account_id: str,
        token: str,
        text: str,
        image_urls: Sequence[str],
        *,
        before_visible_call: BeforeVisibleCall | None = None,
    ) -> PublishResult:
        """Publish `text` with `image_urls` on the account, or raise `PublishError`.

        Await `before_visible_call` just before the call that makes the post visible.
        """
        ...


class GraphPublisher:
    """Publishes through the Graph API after checks that need no Graph call.

    `images` fetches the photos for pre-flight, through the outbound guard. The
    `content_publishing_limit` read is made once per account per QUOTA_TTL_S (not before
    every Instagram post); set `check_quota=False` to skip it altogether.
    """

    def __init__(
        self,
        client: GraphClient,
        images: OutboundClient,
        *,
        check_quota: bool = True,
        poll_interval_s: float = 1.0,
        poll_timeout_s: float = 60.0,
        image_concurrency: int = 4,
    ) -> None:
        self._client = client
        self._images = images
        self._check_quota = check_quota
        self._poll_interval_s = poll_interval_s
        self._poll_timeout_s = poll_timeout_s
        self._image_concurrency = image_concurrency
        # account id → (quota as read, when read, posts published since): one read serves
        # an account's whole round instead of one read per post.
        self._quotas: dict[str, tuple[Quota, float, int]] = {}

    async def publish(
        self,
        platform: Platform,
        account_id: str,
        token: str,
        text: str,
        image_urls: Sequence[str],
        *,
        before_visible_call: BeforeVisibleCall | None = None,
    ) -> PublishResult:
        """Check caption and images, then publish; the result's `notes` name photos left out.

        Every pre-flight failure raises `PublishError` before any Graph call.
        """
        svc = service_name(platform)
        problems = check_caption(text, platform)
        if problems:
            raise PublishError("caption", False, " ".join(problems))
        usable: list[str] = []
        notes: list[str] = []
        if image_urls:
            check = await check_images(
                self._images, image_urls, platform=platform, concurrency=self._image_concurrency
            )
            if not check.usable:
                raise PublishError(
                    "media", False, f"No photo can be posted to {svc}. " + " ".join(check.problems)
                )
            usable, notes = check.usable, check.problems
        if platform == "instagram":
            if not usable:
                raise PublishError(
                    "media",
                    False,
                    "Instagram posts need at least one photo; add a JPEG photo and tap Retry.",
                )
            if self._check_quota:
                quota = await self._quota(account_id, token)
                if quota.remaining <= 0:
                    raise PublishError(
                        "quota",
                        False,
                        f"This Instagram account already published {quota.used} of its "
                        f"{quota.total} posts allowed in 24 hours; tap Retry tomorrow.",
                        9,
                        2207042,
                    )
            result = await publish_instagram(
                self._client,
                account_id,
                token,
                text,
                usable,
                poll_interval_s=self._poll_interval_s,
                poll_timeout_s=self._poll_timeout_s,
                before_visible_call=before_visible_call,
            )
            self._count_published(account_id)
        else:
            result = await publish_facebook(
                self._client,
                account_id,
                token,
                text,
                usable,
                before_visible_call=before_visible_call,
            )
        return PublishResult(result.platform_post_id, result.permalink, tuple(notes))

    async def _quota(self, account_id: str, token: str) -> Quota:
        """The account's quota, read at most once per QUOTA_TTL_S and counted down by our
        own posts meanwhile; read afresh before ever refusing a post on it."""
        cached = self._quotas.get(account_id)
        if cached is not None:
            quota, read_at, since = cached
            left = Quota(quota.used + since, quota.total)
            if time.monotonic() - read_at < QUOTA_TTL_S and left.remaining > 0:
                return left
        quota = await publishing_quota(self._client, account_id, token)
        self._quotas[account_id] = (quota, time.monotonic(), 0)
        return quota

    def _count_published(self, account_id: str) -> None:
        cached = self._quotas.get(account_id)
        if cached is not None:
            self._quotas[account_id] = (cached[0], cached[1], cached[2] + 1)
