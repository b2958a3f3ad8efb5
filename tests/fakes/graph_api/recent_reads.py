"""Recent-content reads of the fake Graph API: what an account shows, newest first.

- `GET /{ig-user-id}/media` (IG User Media edge): the account's published media with
  `caption`, `permalink`, `timestamp`, `media_type`; `limit` (default 25), `since`/`until`
  (unix seconds), cursor paging (`after`).
- `GET /{page-id}/posts` and `/published_posts` (Page Feed edges): the Page's published
  posts with `message`, `permalink_url`, `created_time`; same paging.
- `GET /{page-id}/photos?type=uploaded`: the Page's published photos (`name` is the caption).

Functions of the fake's state (not a mixin): the Pages and Instagram mixins call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tests.fakes.graph_api.graph_faults import GraphFault
from tests.fakes.graph_api.request_params import _iso

if TYPE_CHECKING:
    from tests.fakes.graph_api.server import FakeGraphApi

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def recent_media(fake: FakeGraphApi, ig_user_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The IG account's media, newest first."""

    rows = [
        (
            p.created_at,
            {
                "id": p.id,
                "caption": p.message,
                "permalink": p.permalink,
                "timestamp": _iso(p.created_at),
                "media_type": "CAROUSEL_ALBUM" if len(p.image_urls) > 1 else "IMAGE",
            },
        )
        for p in fake.visible_posts(ig_user_id)
        if p.platform == "instagram"
    ]
    return _page(fake, "IGMedia", rows, params)


def recent_page_posts(fake: FakeGraphApi, page_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The Page's published posts (photo posts included), newest first."""

    rows = [
        (
            p.created_at,
            {
                "id": p.id,
                "message": p.message,
                "permalink_url": p.permalink,
                "created_time": _iso(p.created_at),
                "is_published": True,
            },
        )
        for p in fake.visible_posts(page_id)
        if p.platform == "facebook"
    ]
    return _page(fake, "Post", rows, params)


def recent_page_photos(fake: FakeGraphApi, page_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The Page's uploaded, published photos, newest first (`type=uploaded`)."""

    if str(params.get("type", "uploaded")) != "uploaded":
        return {"data": []}
    rows = [
        (
            ph.created_at,
            {
                "id": ph.id,
                "name": ph.caption,
                "link": f"https://www.facebook.com/photo/?fbid={ph.id}",
                "created_time": _iso(ph.created_at),
            },
        )
        for ph in fake.photos.values()
        if ph.page_id == page_id and ph.published
    ]
    return _page(fake, "Photo", rows, params)


def _page(
    fake: FakeGraphApi,
    node_type: str,
    rows: Sequence[tuple[float, dict[str, Any]]],
    params: dict[str, Any],
) -> dict[str, Any]:

    since = _unix(params.get("since"))
    until = _unix(params.get("until"))
    kept = [
        values
        for at, values in sorted(rows, key=lambda r: r[0], reverse=True)
        if (since is None or at >= since) and (until is None or at <= until)
    ]
    try:
        limit = min(int(str(params.get("limit", DEFAULT_LIMIT))), MAX_LIMIT)
        start = int(str(params.get("after", "0") or "0"))
    except ValueError:
        raise GraphFault(100, "(#100) Invalid paging parameter") from None
    chunk = kept[start : start + limit]
    data = [fake._fields(node_type, values, params) for values in chunk]
    out: dict[str, Any] = {"data": data}
    if chunk:
        paging: dict[str, Any] = {
            "cursors": {"before": str(start), "after": str(start + len(chunk))}
        }
        if start + len(chunk) < len(kept):
            paging["next"] = f"{fake.base_url}/?after={start + len(chunk)}"
        out["paging"] = paging
    return out


def _unix(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(str(value))
    except ValueError:
        raise GraphFault(100, f"(#100) Invalid timestamp: {value}") from None
