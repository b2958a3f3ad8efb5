"""What the fake Graph holds: tokens, Pages, Instagram users, containers, posts,
photos, images, injected failures and the record of calls; the constants they share.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

Action = Literal["error", "disconnect", "disconnect_after", "delay"]
# A mounted module's handler (e.g. facebook_login.py): given the method, the path
# without its version, the parameters and the token, it answers a JSON body or a response,
# or None when the path is not its own. Raising GraphFault answers a Graph error.
Extension = Callable[
    [str, str, dict[str, Any], str | None], "dict[str, Any] | web.StreamResponse | None"
]
Final = Literal["FINISHED", "ERROR", "EXPIRED"]

IG_MAX_BYTES = 8 * 1024 * 1024
FB_MAX_BYTES = 10 * 1000 * 1000
DAY_S = 86400

PAGE_SCOPES = ("pages_manage_posts", "pages_read_engagement", "pages_show_list")
IG_SCOPES = ("instagram_basic", "instagram_content_publish", "pages_show_list")

_VERSION = re.compile(r"^/v\d+(?:\.\d+)?(?=/|$)")

_FIELDS: dict[str, tuple[str, ...]] = {
    "Page": ("id", "name", "category", "link", "username", "fan_count"),
    "IGUser": (
        "id",
        "ig_id",
        "username",
        "name",
        "biography",
        "followers_count",
        "media_count",
        "profile_picture_url",
    ),
    "User": ("id", "name"),
    "Post": ("id", "message", "permalink_url", "created_time", "is_published"),
    "Photo": ("id", "link", "created_time", "name"),
    "ShadowIGMediaBuilder": ("id", "status_code", "status"),
    "IGMedia": ("id", "permalink", "caption", "media_type", "timestamp"),
}


@dataclass
class FakeCall:
    """One request the fake received; `path` has no version prefix; `params` no token.

    `url` is the request target as received (path and query), to check what a log of it
    would show.
    """

    method: str
    path: str
    params: dict[str, Any]
    token: str | None
    at: float
    url: str = ""


@dataclass
class FakeToken:
    token: str
    type: Literal["PAGE", "USER"]
    profile_id: str | None
    user_id: str
    user_name: str
    scopes: tuple[str, ...]
    accounts: set[str] = field(default_factory=set)
    expires_at: int = 0
    data_access_expires_at: int = 0
    revoked_subcode: int | None = None


@dataclass
class FakePost:
    """A post that exists on a Page (`platform="facebook"`) or an IG account."""

    id: str
    account_id: str
    platform: Literal["facebook", "instagram"]
    message: str
    image_urls: list[str]
    permalink: str
    created_at: float
    published: bool = True
    deleted: bool = False


@dataclass
class FakePhoto:
    id: str
    page_id: str
    url: str
    published: bool
    post_id: str | None = None
    attached_to: str | None = None
    caption: str = ""
    created_at: float = 0.0


@dataclass
class ContainerPlan:
    """How a container's `status_code` evolves: `polls` IN_PROGRESS answers, then `final`."""

    polls: int = 0
    final: Final = "FINISHED"
    error_subcode: int | None = None


@dataclass
class FakeContainer:
    id: str
    ig_user_id: str
    media_type: str
    image_url: str | None
    caption: str
    is_carousel_item: bool
    children: list[str]
    plan: ContainerPlan
    polls: int = 0
    published_media_id: str | None = None
    created_at: float = field(default_factory=time.time)
    clock: Callable[[], float] = time.time

    @property
    def status_code(self) -> str:
        if self.published_media_id:
            return "PUBLISHED"
        # Meta: a container not published within 24 h of its creation is EXPIRED.
        if self.clock() - self.created_at >= DAY_S:
            return "EXPIRED"
        if self.polls <= self.plan.polls:
            return "IN_PROGRESS"
        return self.plan.final


@dataclass
class FakePage:
    page_id: str
    name: str
    category: str
    token: str


@dataclass
class FakeIgUser:
    ig_user_id: str
    username: str
    name: str
    token: str
    quota_total: int
    quota_used_before: int = 0
    published_at: list[float] = field(default_factory=list)

    def quota_usage(self, now: float) -> int:
        return self.quota_used_before + sum(1 for t in self.published_at if now - t < DAY_S)


@dataclass
class Failure:
    method: str | None
    path: str
    remaining: int
    action: Action
    http_status: int
    code: int | None
    subcode: int | None
    message: str
    type: str
    is_transient: bool | None
    headers: dict[str, str]
    raw_body: bytes | None
    delay_s: float


@dataclass
class FakeImage:
    body: bytes
    content_type: str
    format: str | None
    width: int
    height: int
    chunked: bool = False
