"""Publishing to a Facebook Page (specs/EXTERNAL_APIS.md §3)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from services.publishing._tasks import run_all
from services.publishing.graph_client import GraphClient, JsonObject, ParamValue
from services.publishing.graph_errors import PublishError
from services.publishing.results import BeforeVisibleCall, PublishResult, VisibleCall

log = logging.getLogger(__name__)

# Unpublished photo uploads run side by side, but not all at once for a big album.
UPLOAD_CONCURRENCY = 4


async def publish_facebook(
    client: GraphClient,
    page_id: str,
    token: str,
    message: str,
    image_urls: Sequence[str],
    *,
    before_visible_call: BeforeVisibleCall | None = None,
) -> PublishResult:
    """Post `message` with the photos at `image_urls` on the Page and return its id and link.

    One photo: `/{page-id}/photos` with `url` and `caption`. Several: each uploaded with
    `published=false`, then one `/{page-id}/feed` post with `attached_media`. None: `/feed`.
    The returned id is the `<page-id>_<post-id>` post id. `before_visible_call` is awaited
    just before the call that makes the post visible.
    """
    urls = list(image_urls)
    if not urls and not message.strip():
        raise PublishError(
            "invalid_request",
            False,
            "The post has neither text nor photos; add some and tap Retry.",
        )
    if len(urls) == 1:
        data: dict[str, ParamValue] = {"url": urls[0]}
        if message:
            data["caption"] = message
        if before_visible_call is not None:
            await before_visible_call(VisibleCall())
        resp = await client.post(f"{page_id}/photos", token, data, platform="facebook")
        post_id = _id_of(resp, "post_id") or _required_id(resp, "id")
    else:
        data = {}
        if message:
            data["message"] = message
        if urls:
            photo_ids = await _upload_unpublished(client, page_id, token, urls)
            for i, photo_id in enumerate(photo_ids):
                data[f"attached_media[{i}]"] = {"media_fbid": photo_id}
        if before_visible_call is not None:
            await before_visible_call(VisibleCall())
        resp = await client.post(f"{page_id}/feed", token, data, platform="facebook")
        post_id = _required_id(resp, "id")
    log.info("Facebook post %s published on page %s", post_id, page_id)
    return PublishResult(post_id, await facebook_permalink(client, post_id, token))


async def facebook_permalink(client: GraphClient, post_id: str, token: str) -> str | None:
    """The post's `permalink_url`, or None if it cannot be read (the post exists either way)."""
    try:
        resp = await client.get(post_id, token, {"fields": "permalink_url"}, platform="facebook")
    except PublishError as exc:
        log.warning("could not read the permalink of Facebook post %s: %s", post_id, exc.kind)
        return None
    link = resp.get("permalink_url")
    return link if isinstance(link, str) and link else None


async def _upload_unpublished(
    client: GraphClient, page_id: str, token: str, urls: list[str]
) -> list[str]:
    async def upload(url: str) -> str:
        # An unpublished photo is invisible and dropped by Facebook after about a day,
        # so repeating the upload cannot double-post.
        resp = await client.post(
            f"{page_id}/photos",
            token,
            {"url": url, "published": False},
            idempotent=True,
            platform="facebook",
        )
        return _required_id(resp, "id", visible=False)

    return await run_all([upload(u) for u in urls], UPLOAD_CONCURRENCY)


def _id_of(resp: JsonObject, key: str) -> str | None:
    value = resp.get(key)
    return str(value) if isinstance(value, str | int) and str(value) else None


def _required_id(resp: JsonObject, key: str, *, visible: bool = True) -> str:
    value = _id_of(resp, key)
    if value is not None:
        return value
    if visible:
        raise PublishError(
            "outcome_unknown",
            False,
            "Facebook accepted the post but did not return its id; please check your page "
            "before posting it again.",
            detail=f"success body without {key!r}: keys={sorted(resp)}",
        )
    raise PublishError(
        "unknown",
        False,
        "Facebook accepted a photo but did not return its id; tap Retry, and if it happens "
        "again contact support.",
        detail=f"success body without {key!r}: keys={sorted(resp)}",
    )
