"""Asking the platform what became of a post whose publisher died (reconciliation reads).

Every read goes through `GraphClient.get`: bounded by its timeout and retried like any
other idempotent Graph call. They raise `PublishError` when the platform cannot answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.publishing.graph_client import GraphClient, JsonObject

# Recent items read per lookup: a post made within the claim's window is among the newest.
RECENT_LIMIT = 50


@dataclass(frozen=True)
class FoundPost:
    """A post found on the platform: its id and link."""

    platform_post_id: str
    permalink: str | None


async def container_status(client: GraphClient, container_id: str, token: str) -> str:
    """The Instagram container's `status_code` (IN_PROGRESS, FINISHED, PUBLISHED, ERROR,
    EXPIRED), or "" when the answer has none."""
    resp = await client.get(container_id, token, {"fields": "status_code"}, platform="instagram")
    value = resp.get("status_code")
    return value if isinstance(value, str) else ""


async def find_instagram_media(
    client: GraphClient, ig_user_id: str, token: str, caption: str, since: datetime
) -> FoundPost | None:
    """The account's media published since `since` whose caption is `caption`, if any."""
    resp = await client.get(
        f"{ig_user_id}/media",
        token,
        {
            "fields": "id,caption,permalink,timestamp",
            "since": int(since.timestamp()),
            "limit": RECENT_LIMIT,
        },
        platform="instagram",
    )
    return _match(resp, "caption", caption, "permalink")


async def find_facebook_post(
    client: GraphClient, page_id: str, token: str, message: str, since: datetime
) -> FoundPost | None:
    """The Page's post made since `since` whose text is `message`, if any (photo posts
    carry their caption as the post's message)."""
    resp = await client.get(
        f"{page_id}/posts",
        token,
        {
            "fields": "id,message,permalink_url,created_time",
            "since": int(since.timestamp()),
            "limit": RECENT_LIMIT,
        },
        platform="facebook",
    )
    return _match(resp, "message", message, "permalink_url")


def _match(resp: JsonObject, text_key: str, text: str, link_key: str) -> FoundPost | None:
    data = resp.get("data")
    if not isinstance(data, list):
        return None
    wanted = text.strip()
    for item in data:
        if not isinstance(item, dict):
            continue
        body = item.get(text_key)
        item_id = item.get("id")
        if isinstance(body, str) and body.strip() == wanted and isinstance(item_id, str | int):
            link = item.get(link_key)
            return FoundPost(str(item_id), link if isinstance(link, str) and link else None)
    return None
