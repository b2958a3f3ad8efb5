"""One entry point for the publisher job: pre-flight checks, then the platform's flow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.outbound import OutboundClient
from services.publishing.facebook import publish_facebook
from services.publishing.graph_client import GraphClient
from services.publishing.graph_errors import Platform, PublishError, service_name
from services.publishing.instagram import publish_instagram, publishing_quota
from services.publishing.preflight import check_caption, check_images
from services.publishing.results import BeforeVisibleCall, PublishResult


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

    `images` fetches the photos for pre-flight, through the outbound guard. Set
    `check_quota=False` to skip the `content_publishing_limit` read before each Instagram
    post (one call fewer).
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
                quota = await publishing_quota(self._client, account_id, token)
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
