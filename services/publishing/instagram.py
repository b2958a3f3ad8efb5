"""Publishing to an Instagram professional account (specs/EXTERNAL_APIS.md §2).

Flow: create a container (or carousel items and a carousel container), poll it until
`FINISHED`, `media_publish` it, then read the permalink. A container can be published only
once, which is what makes a lost `media_publish` answer recoverable without a second post.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from services.publishing._tasks import run_all
from services.publishing.graph_client import GraphClient, JsonObject, ParamValue
from services.publishing.graph_errors import (
    PublishError,
    parse_container_subcode,
    rule_for_container_subcode,
)
from services.publishing.results import BeforeVisibleCall, PublishResult, Quota, VisibleCall

log = logging.getLogger(__name__)

MAX_CAROUSEL_ITEMS = 10
ITEM_CONCURRENCY = 4
MAX_POLL_INTERVAL_S = 5.0
# When content_publishing_limit omits config.quota_total, assume the smallest documented figure.
FALLBACK_QUOTA_TOTAL = 50


async def publish_instagram(
    client: GraphClient,
    ig_user_id: str,
    token: str,
    caption: str,
    image_urls: Sequence[str],
    *,
    poll_interval_s: float = 1.0,
    poll_timeout_s: float = 60,
    before_visible_call: BeforeVisibleCall | None = None,
) -> PublishResult:
    """Publish one photo, or a carousel of 2-10, with `caption`; return the media id and link.

    `before_visible_call` gets the container id (and when its making began) before
    `media_publish`, so that the container can be asked about after a crash.

    Raises `PublishError`: `transient` (retryable) when the container is still processing
    after `poll_timeout_s` or expired; the container's own error when it ends in `ERROR`.
    """
    urls = list(image_urls)
    if not urls:
        raise PublishError(
            "media",
            False,
            "Instagram posts need at least one photo; add a JPEG photo and tap Retry.",
        )
    if len(urls) > MAX_CAROUSEL_ITEMS:
        raise PublishError(
            "media",
            False,
            f"An Instagram post holds at most {MAX_CAROUSEL_ITEMS} photos but this one has "
            f"{len(urls)}; remove some and tap Retry.",
        )
    # The earliest moment any container of this post was made: the 24 h expiry counts from it.
    created_at = datetime.now(UTC)
    if len(urls) == 1:
        container_id = await _create_container(
            client, ig_user_id, token, image_url=urls[0], caption=caption
        )
    else:
        children = await run_all(
            [
                _create_container(client, ig_user_id, token, image_url=u, is_carousel_item=True)
                for u in urls
            ],
            ITEM_CONCURRENCY,
        )
        container_id = await _create_container(
            client,
            ig_user_id,
            token,
            media_type="CAROUSEL",
            children=",".join(children),
            caption=caption,
        )
    await wait_until_finished(
        client, container_id, token, poll_interval_s=poll_interval_s, poll_timeout_s=poll_timeout_s
    )
    if before_visible_call is not None:
        await before_visible_call(VisibleCall(container_id, created_at))
    return await publish_container(client, ig_user_id, container_id, token)


async def publish_container(
    client: GraphClient, ig_user_id: str, container_id: str, token: str
) -> PublishResult:
    """`media_publish` a FINISHED container and read the new media's permalink."""
    media_id = await _publish(client, ig_user_id, container_id, token)
    log.info("Instagram media %s published for account %s", media_id, ig_user_id)
    return PublishResult(media_id, await instagram_permalink(client, media_id, token))


async def wait_until_finished(
    client: GraphClient,
    container_id: str,
    token: str,
    *,
    poll_interval_s: float = 1.0,
    poll_timeout_s: float = 60,
) -> None:
    """Poll the container's `status_code` with growing pauses until it is `FINISHED`."""
    deadline = time.monotonic() + poll_timeout_s
    delay = poll_interval_s
    while True:
        resp = await client.get(
            container_id, token, {"fields": "status_code,status"}, platform="instagram"
        )
        status_code = str(resp.get("status_code", ""))
        if status_code == "FINISHED":
            return
        if status_code == "ERROR":
            status = resp.get("status")
            raise rule_for_container_subcode(
                parse_container_subcode(status if isinstance(status, str) else None)
            )
        if status_code == "EXPIRED":
            raise PublishError(
                "transient",
                True,
                "The Instagram upload expired before publishing; tap Retry in a few minutes.",
            )
        if status_code == "PUBLISHED":
            raise _published_without_id()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PublishError(
                "transient",
                True,
                f"Instagram was still processing the photos after {poll_timeout_s:g} s; "
                "tap Retry in a few minutes.",
                detail=f"container {container_id} last status {status_code or 'missing'}",
            )
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 1.5, max(poll_interval_s, MAX_POLL_INTERVAL_S))


async def instagram_permalink(client: GraphClient, media_id: str, token: str) -> str | None:
    """The media's `permalink`, or None if it cannot be read (the post exists either way)."""
    try:
        resp = await client.get(media_id, token, {"fields": "permalink"}, platform="instagram")
    except PublishError as exc:
        log.warning("could not read the permalink of Instagram media %s: %s", media_id, exc.kind)
        return None
    link = resp.get("permalink")
    return link if isinstance(link, str) and link else None


async def publishing_quota(client: GraphClient, ig_user_id: str, token: str) -> Quota:
    """Posts used and allowed in Instagram's rolling 24-hour window."""
    resp = await client.get(
        f"{ig_user_id}/content_publishing_limit",
        token,
        {"fields": "quota_usage,config"},
        platform="instagram",
    )
    data = resp.get("data")
    entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    config = entry.get("config")
    total = config.get("quota_total") if isinstance(config, dict) else None
    used = entry.get("quota_usage")
    return Quota(
        used=used if isinstance(used, int) else 0,
        total=total if isinstance(total, int) else FALLBACK_QUOTA_TOTAL,
    )


async def _create_container(
    client: GraphClient, ig_user_id: str, token: str, **fields: ParamValue
) -> str:
    data = {k: v for k, v in fields.items() if v not in (None, "")}
    # A container is invisible until published, so creating it twice cannot double-post.
    resp = await client.post(
        f"{ig_user_id}/media", token, data, idempotent=True, platform="instagram"
    )
    return _id(resp, "container")


async def _publish(client: GraphClient, ig_user_id: str, container_id: str, token: str) -> str:
    path = f"{ig_user_id}/media_publish"
    data: dict[str, ParamValue] = {"creation_id": container_id}
    try:
        resp = await client.post(path, token, data, platform="instagram")
    except PublishError as exc:
        if exc.kind != "outcome_unknown":
            raise
        # The answer was lost. The container tells us whether the publish happened.
        status = await _container_status(client, container_id, token)
        log.warning("media_publish answer lost; container %s is %s", container_id, status)
        if status == "PUBLISHED":
            raise _published_without_id() from None
        if status != "FINISHED":
            raise
        try:
            resp = await client.post(path, token, data, platform="instagram")
        except PublishError:
            # The first call may have landed after all; never report a live post as failed.
            if await _container_status(client, container_id, token) == "PUBLISHED":
                raise _published_without_id() from None
            raise
    return _id(resp, "media")


async def _container_status(client: GraphClient, container_id: str, token: str) -> str | None:
    try:
        resp = await client.get(
            container_id, token, {"fields": "status_code"}, platform="instagram"
        )
    except PublishError:
        return None
    value = resp.get("status_code")
    return value if isinstance(value, str) else None


def _published_without_id() -> PublishError:
    return PublishError(
        "outcome_unknown",
        False,
        "Instagram published the post but its answer was lost; please check your Instagram "
        "account before posting it again.",
    )


def _id(resp: JsonObject, what: str) -> str:
    value = resp.get("id")
    if isinstance(value, str | int) and str(value):
        return str(value)
    if what == "media":
        raise _published_without_id()
    raise PublishError(
        "transient",
        True,
        "Instagram did not return an upload id; tap Retry in a few minutes.",
        detail=f"{what} answer without id: keys={sorted(resp)}",
    )
