"""A fake Meta Graph API on 127.0.0.1, faithful to specs/EXTERNAL_APIS.md §2-§3.

Use it in tests::

    async with FakeGraphApi() as fake:
        fake.add_page("104857392018374", "EAAGpage...", "Sunny Homes")
        client = GraphClient(session, fake.base_url)

What it speaks: any `/vNN.N/` prefix or none; `access_token` as a query/form/JSON parameter or
an `Authorization: Bearer` header; Page photos/feed/permalinks; Instagram containers with a
status progression, carousels, `media_publish` with the rolling quota, `content_publishing_limit`;
`debug_token`; error bodies `{"error": {message, type, code, error_subcode, fbtrace_id, ...}}`.

What it adds for tests: per-call latency, failure injection (`fail_next`), a record of every
call (`calls`), the posts that became visible (`posts`), and test images served from its own
`/images/<name>` so pre-flight code can fetch them. Container-creation checks image URLs that
point at itself (missing → 9004, not JPEG → 36001, > 8 MiB → 36000, bad ratio → 36003).

Run standalone (for benches with several processes)::

    python -m tests.fakes.graph_api --port 8765 --latency 0.1

and drive it with `POST /__fake__/pages`, `POST /__fake__/ig_users`, `GET /__fake__/state`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import fnmatch
import io
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import web
from PIL import Image

from services.graph_versions import CURRENT_GRAPH_VERSION
from tests.fakes.graph_reads import recent_media, recent_page_photos, recent_page_posts

Action = Literal["error", "disconnect", "disconnect_after", "delay"]
# A mounted module's handler (e.g. tests/fakes/facebook_login.py): given the method, the path
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


# ---------------------------------------------------------------- records


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


class GraphFault(Exception):
    """Raised inside handlers; becomes a Graph error body."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        http_status: int = 400,
        type: str = "OAuthException",
        is_transient: bool | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode
        self.http_status = http_status
        self.type = type
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg


def graph_error_body(
    code: int | None,
    message: str,
    *,
    subcode: int | None = None,
    type: str = "OAuthException",
    is_transient: bool | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
) -> dict[str, Any]:
    """The Graph's error envelope."""
    err: dict[str, Any] = {"message": message, "type": type}
    if code is not None:
        err["code"] = code
    if subcode is not None:
        err["error_subcode"] = subcode
    if is_transient is not None:
        err["is_transient"] = is_transient
    if user_title:
        err["error_user_title"] = user_title
    if user_msg:
        err["error_user_msg"] = user_msg
    err["fbtrace_id"] = base64.urlsafe_b64encode(secrets.token_bytes(17)).decode()[:23]
    return {"error": err}


def _not_found(obj_id: str, method: str) -> GraphFault:
    return GraphFault(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{obj_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type="GraphMethodException",
    )


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


# ---------------------------------------------------------------- the fake


class FakeGraphApi:
    """The fake server; see the module docstring."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        image_latency_s: float = 0.0,
        quota_total: int = 100,
        polls_until_finished: int = 0,
        reject_duplicate_messages: bool = False,
        debug_token_available: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.latency_s = latency_s
        self.image_latency_s = image_latency_s
        self.quota_total = quota_total
        self.polls_until_finished = polls_until_finished
        self.reject_duplicate_messages = reject_duplicate_messages
        self.debug_token_available = debug_token_available
        self.version = CURRENT_GRAPH_VERSION
        self.calls: list[FakeCall] = []
        self.posts: list[FakePost] = []
        self.pages: dict[str, FakePage] = {}
        self.ig_users: dict[str, FakeIgUser] = {}
        self.tokens: dict[str, FakeToken] = {}
        self.photos: dict[str, FakePhoto] = {}
        self.containers: dict[str, FakeContainer] = {}
        self.images: dict[str, FakeImage] = {}
        # Insights (specs/EXTERNAL_APIS.md §8): post id → metric → value; a metric with no
        # value gives no entry (Graph answers an empty `data`, not zeros).
        self.insights: dict[str, dict[str, int]] = {}
        # The metrics still supported, per platform; asking for any other one fails the whole
        # request with code 100, as Graph does.
        self.insight_metrics: dict[str, set[str]] = {
            "instagram": {
                "views",
                "reach",
                "likes",
                "comments",
                "saved",
                "shares",
                "total_interactions",
            },
            "facebook": {
                "post_media_view",
                "post_total_media_view_unique",
                "post_clicks",
                "post_reactions_by_type_total",
            },
        }
        self._failures: list[Failure] = []
        self._path_latency: list[tuple[str | None, str, float]] = []
        self._container_plans: deque[ContainerPlan] = deque()
        self.extensions: list[Extension] = []
        self._seq = 0
        self.clock_offset_s = 0.0
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeGraphApi:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGraphApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def base_url(self) -> str:
        """What `GRAPH_API_BASE_URL` should be set to."""
        return f"{self.root_url}/{self.version}"

    # ------------------------------------------------------------ clock

    def now(self) -> float:
        """The fake's clock: real time moved by `advance` (container expiry, timestamps)."""
        return time.time() + self.clock_offset_s

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward, e.g. past a container's 24 hours."""
        self.clock_offset_s += seconds

    # ------------------------------------------------------------ setup

    def add_page(
        self,
        page_id: str,
        token: str,
        name: str,
        *,
        category: str = "Real Estate Agent",
        scopes: tuple[str, ...] = PAGE_SCOPES,
        expires_at: int = 0,
        data_access_expires_at: int = 0,
    ) -> FakePage:
        """Register a Page and a Page token that can post on it."""
        page = FakePage(page_id, name, category, token)
        self.pages[page_id] = page
        tok = self.tokens.get(token)
        if tok is None:
            tok = FakeToken(
                token,
                "PAGE",
                page_id,
                user_id=self._new_id(10_000_000_000_000),
                user_name="Page Admin",
                scopes=scopes,
                expires_at=expires_at,
                data_access_expires_at=data_access_expires_at,
            )
            self.tokens[token] = tok
        tok.accounts.add(page_id)
        return page

    def add_ig_user(
        self,
        ig_user_id: str,
        token: str,
        username: str,
        name: str | None = None,
        *,
        quota_total: int | None = None,
        quota_used: int = 0,
        scopes: tuple[str, ...] = IG_SCOPES,
        expires_at: int = 0,
        data_access_expires_at: int = 0,
    ) -> FakeIgUser:
        """Register an Instagram professional account and a token that can publish on it.

        If `token` is already a Page token (a Page linked to this account), it gains access.
        """
        user = FakeIgUser(
            ig_user_id,
            username,
            name or username,
            token,
            quota_total if quota_total is not None else self.quota_total,
            quota_used_before=quota_used,
        )
        self.ig_users[ig_user_id] = user
        tok = self.tokens.get(token)
        if tok is None:
            tok = FakeToken(
                token,
                "USER",
                None,
                user_id=self._new_id(10_000_000_000_000),
                user_name=f"{user.name} Owner",
                scopes=scopes,
                expires_at=expires_at,
                data_access_expires_at=data_access_expires_at,
            )
            self.tokens[token] = tok
        else:
            tok.scopes = tuple(dict.fromkeys(tok.scopes + scopes))
        tok.accounts.add(ig_user_id)
        return user

    def add_user_token(self, token: str, user_id: str, name: str) -> FakeToken:
        """A personal user token (not a Page token): it can read but is not a Page."""
        tok = FakeToken(token, "USER", None, user_id, name, scopes=("public_profile",))
        self.tokens[token] = tok
        return tok

    def revoke_token(self, token: str, subcode: int = 460) -> None:
        """Make every later call with `token` fail with 190 and this subcode."""
        self.tokens[token].revoked_subcode = subcode

    def plan_next_containers(self, *plans: ContainerPlan) -> None:
        """Status progressions for the next containers created, in order."""
        self._container_plans.extend(plans)

    def set_latency(self, path: str, seconds: float, *, method: str | None = None) -> None:
        """Latency for calls whose path matches the glob (e.g. '/*/media_publish')."""
        self._path_latency.append((method, path, seconds))

    def fail_next(
        self,
        path: str,
        times: int = 1,
        *,
        method: str | None = None,
        code: int | None = 2,
        subcode: int | None = None,
        http_status: int = 400,
        message: str | None = None,
        type: str = "OAuthException",
        is_transient: bool | None = None,
        headers: dict[str, str] | None = None,
        raw_body: bytes | None = None,
        action: Action = "error",
        delay_s: float = 0.0,
    ) -> None:
        """Make the next `times` calls whose path matches the glob fail.

        `action`: "error" answers a Graph error (or `raw_body`) without doing anything;
        "disconnect" drops the connection before doing anything; "disconnect_after" does the
        work, then drops the connection; "delay" waits `delay_s`, then does the work and answers
        normally (so a client with a shorter timeout gives up while the post is created).
        """
        self._failures.append(
            Failure(
                method.upper() if method else None,
                path,
                times,
                action,
                http_status,
                code,
                subcode,
                message or f"(#{code}) Injected failure",
                type,
                is_transient,
                dict(headers or {}),
                raw_body,
                delay_s,
            )
        )

    # ------------------------------------------------------------ images

    def image_url(self, name: str) -> str:
        return f"{self.root_url}/images/{name}"

    def add_jpeg(
        self, name: str, width: int, height: int, *, pad_to_bytes: int | None = None
    ) -> str:
        """Serve a JPEG of the given size; `pad_to_bytes` appends junk to reach a file size."""
        return self._add_picture(name, width, height, "JPEG", "image/jpeg", pad_to_bytes)

    def add_png(self, name: str, width: int, height: int) -> str:
        return self._add_picture(name, width, height, "PNG", "image/png", None)

    def add_file(self, name: str, body: bytes, content_type: str, *, chunked: bool = False) -> str:
        """Serve arbitrary bytes (HTML, a truncated JPEG, …); `chunked` omits Content-Length."""
        fmt, width, height = None, 0, 0
        try:
            with Image.open(io.BytesIO(body)) as img:
                fmt, (width, height) = img.format, img.size
        except Exception:
            pass
        self.images[name] = FakeImage(body, content_type, fmt, width, height, chunked)
        return self.image_url(name)

    def _add_picture(
        self,
        name: str,
        width: int,
        height: int,
        fmt: str,
        content_type: str,
        pad_to_bytes: int | None,
    ) -> str:
        buf = io.BytesIO()
        Image.new("RGB", (width, height), (200, 120, 40)).save(buf, format=fmt)
        body = buf.getvalue()
        if pad_to_bytes and pad_to_bytes > len(body):
            body += b"\0" * (pad_to_bytes - len(body))
        self.images[name] = FakeImage(body, content_type, fmt, width, height)
        return self.image_url(name)

    # ------------------------------------------------------------ queries for tests

    def graph_calls(self, method: str | None = None, path: str = "*") -> list[FakeCall]:
        """Calls to the Graph (not to /images or /__fake__) matching method and path glob."""
        return [
            c
            for c in self.calls
            if not c.path.startswith(("/images/", "/__fake__"))
            and (method is None or c.method == method.upper())
            and fnmatch.fnmatchcase(c.path, path)
        ]

    def image_fetches(self, name: str | None = None) -> list[FakeCall]:
        prefix = f"/images/{name}" if name else "/images/"
        return [c for c in self.calls if c.path.startswith(prefix)]

    def visible_posts(self, account_id: str | None = None) -> list[FakePost]:
        """Published, not deleted posts, optionally of one Page or IG account."""
        return [
            p
            for p in self.posts
            if p.published and not p.deleted and (account_id is None or p.account_id == account_id)
        ]

    def duplicate_count(self) -> int:
        """Visible posts beyond the first with the same account, text and images."""
        seen: set[tuple[str, str, tuple[str, ...]]] = set()
        dupes = 0
        for p in self.visible_posts():
            key = (p.account_id, p.message, tuple(p.image_urls))
            if key in seen:
                dupes += 1
            seen.add(key)
        return dupes

    def state(self) -> dict[str, Any]:
        by_account: dict[str, int] = {}
        for p in self.visible_posts():
            by_account[p.account_id] = by_account.get(p.account_id, 0) + 1
        return {
            "calls": len(self.graph_calls()),
            "posts": len(self.visible_posts()),
            "duplicates": self.duplicate_count(),
            "by_account": by_account,
        }

    # ------------------------------------------------------------ plumbing

    def _new_id(self, base: int) -> str:
        self._seq += 1
        return str(base + self._seq)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = _VERSION.sub("", request.path) or "/"
        params = await _read_params(request)
        token = params.pop("access_token", None)
        auth = request.headers.get("Authorization", "")
        if token is None and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        self.calls.append(
            FakeCall(request.method, path, params, token, time.time(), str(request.rel_url))
        )

        if path.startswith("/__fake__"):
            return await self._control(request, path, params)
        if path.startswith("/images/"):
            return await self._serve_image(request, path)

        latency = self.latency_s
        for method, glob, seconds in self._path_latency:
            if (method is None or method == request.method) and fnmatch.fnmatchcase(path, glob):
                latency = seconds
        if latency > 0:
            await asyncio.sleep(latency)

        failure = self._take_failure(request.method, path)
        if failure is not None and failure.action in ("error", "disconnect"):
            if failure.action == "disconnect":
                return _drop(request)
            return self._failure_response(failure)
        if failure is not None and failure.action == "delay":
            await asyncio.sleep(failure.delay_s)
        try:
            response: web.StreamResponse = self._answer(request.method, path, params, token)
        except GraphFault as fault:
            response = web.json_response(
                graph_error_body(
                    fault.code,
                    fault.message,
                    subcode=fault.subcode,
                    type=fault.type,
                    is_transient=fault.is_transient,
                    user_title=fault.user_title,
                    user_msg=fault.user_msg,
                ),
                status=fault.http_status,
                headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_request"'}
                if fault.code == 190
                else None,
            )
        if failure is not None and failure.action == "disconnect_after":
            return _drop(request)
        return response

    def _answer(
        self, method: str, path: str, params: dict[str, Any], token: str | None
    ) -> web.StreamResponse:
        for extension in self.extensions:
            answer = extension(method, path, params, token)
            if isinstance(answer, web.StreamResponse):
                return answer
            if answer is not None:
                return web.json_response(answer)
        return web.json_response(self._route(method, path, params, token))

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.remaining <= 0:
                continue
            if failure.method not in (None, method):
                continue
            if fnmatch.fnmatchcase(path, failure.path):
                failure.remaining -= 1
                return failure
        return None

    def _failure_response(self, failure: Failure) -> web.Response:
        if failure.raw_body is not None:
            return web.Response(
                body=failure.raw_body,
                status=failure.http_status,
                headers={"Content-Type": "text/html", **failure.headers},
            )
        body = graph_error_body(
            failure.code,
            failure.message,
            subcode=failure.subcode,
            type=failure.type,
            is_transient=failure.is_transient,
        )
        return web.json_response(body, status=failure.http_status, headers=failure.headers)

    async def _serve_image(self, request: web.Request, path: str) -> web.StreamResponse:
        if self.image_latency_s > 0:
            await asyncio.sleep(self.image_latency_s)
        image = self.images.get(path.removeprefix("/images/"))
        if image is None:
            return web.Response(status=404, text="<html>Not found</html>", content_type="text/html")
        if request.method == "HEAD":
            return web.Response(headers={"Content-Type": image.content_type})
        if not image.chunked:
            return web.Response(body=image.body, headers={"Content-Type": image.content_type})
        resp = web.StreamResponse(headers={"Content-Type": image.content_type})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        step = 256 * 1024
        try:
            for start in range(0, len(image.body), step):
                await resp.write(image.body[start : start + step])
            await resp.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass  # the client stopped reading once it had seen enough
        return resp

    # ------------------------------------------------------------ the Graph

    def _route(
        self, method: str, path: str, params: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        parts = [p for p in path.split("/") if p]
        if not parts:
            raise GraphFault(100, "Unsupported get request.", type="GraphMethodException")
        tok = self._auth(token)
        if parts == ["debug_token"] and method == "GET":
            return self._debug_token(params)
        if parts == ["me"] and method == "GET":
            return self._me(tok, params)
        if len(parts) == 1:
            if method == "GET":
                return self._get_node(parts[0], tok, params)
            if method == "DELETE":
                return self._delete(parts[0], tok)
        if len(parts) == 2:
            node_id, edge = parts
            handler = {
                ("POST", "photos"): self._post_photo,
                ("POST", "feed"): self._post_feed,
                ("POST", "media"): self._post_media,
                ("POST", "media_publish"): self._post_media_publish,
                ("GET", "content_publishing_limit"): self._get_quota,
                ("GET", "insights"): self._get_insights,
                ("GET", "media"): self._get_media,
                ("GET", "posts"): self._get_page_posts,
                ("GET", "published_posts"): self._get_page_posts,
                ("GET", "photos"): self._get_page_photos,
            }.get((method, edge))
            if handler is not None:
                return handler(node_id, tok, params)
        raise GraphFault(2500, f"Unknown path components: /{'/'.join(parts[1:])}")

    def set_insights(self, post_id: str, **metrics: int) -> None:
        """What Graph reports for a published post or media."""
        self.insights.setdefault(post_id, {}).update(metrics)

    def _get_insights(self, node_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        post = next((p for p in self.posts if p.id == node_id and not p.deleted), None)
        if post is None:
            raise GraphFault(
                100,
                f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                type="GraphMethodException",
            )
        wanted = [m.strip() for m in str(params.get("metric") or "").split(",") if m.strip()]
        if not wanted:
            raise GraphFault(3001, "Invalid query", subcode=1504028)
        valid = self.insight_metrics[post.platform]
        for metric in wanted:
            if metric in valid:
                continue
            if post.platform == "instagram":
                raise GraphFault(
                    100,
                    f"(#100) The Media Insights API does not support the {metric} metric for "
                    "this media product type.",
                )
            raise GraphFault(100, "(#100) The value must be a valid insights metric")
        known = self.insights.get(node_id, {})
        return {
            "data": [
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": known[metric]}],
                    "title": metric.replace("_", " ").title(),
                    "description": "",
                    "id": f"{node_id}/insights/{metric}/lifetime",
                }
                for metric in wanted
                if metric in known
            ]
        }

    def _auth(self, token: str | None) -> FakeToken:
        if not token:
            raise GraphFault(104, "An access token is required to request this resource.")
        tok = self.tokens.get(token)
        if tok is None:
            raise GraphFault(190, "Invalid OAuth access token - Cannot parse access token")
        if tok.revoked_subcode is not None:
            raise GraphFault(
                190,
                _REVOKED_MESSAGES.get(tok.revoked_subcode, "Error validating access token."),
                subcode=tok.revoked_subcode,
            )
        if tok.expires_at and tok.expires_at < time.time():
            raise GraphFault(
                190, "Error validating access token: Session has expired.", subcode=463
            )
        return tok

    def _require_scope(self, tok: FakeToken, *needed: str) -> None:
        missing = [s for s in needed if s not in tok.scopes]
        if not missing:
            return
        if "pages_manage_posts" in missing:
            raise GraphFault(
                200,
                "(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts permission with page token",
            )
        raise GraphFault(10, "(#10) Application does not have permission for this action")

    def _page_for(self, page_id: str, tok: FakeToken, method: str) -> FakePage:
        page = self.pages.get(page_id)
        if page is None or page_id not in tok.accounts:
            raise _not_found(page_id, method)
        return page

    def _ig_for(self, ig_user_id: str, tok: FakeToken, method: str) -> FakeIgUser:
        user = self.ig_users.get(ig_user_id)
        if user is None or ig_user_id not in tok.accounts:
            raise _not_found(ig_user_id, method)
        return user

    def _debug_token(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.debug_token_available:
            raise GraphFault(
                100,
                "(#100) You must provide an app access token, or a user access token that is an "
                "owner or developer of the app",
            )
        input_token = params.get("input_token")
        tok = self.tokens.get(str(input_token)) if input_token else None
        if tok is None or tok.revoked_subcode is not None:
            subcode = tok.revoked_subcode if tok is not None else None
            return {
                "data": {
                    "is_valid": False,
                    "error": {
                        "code": 190,
                        "message": "Invalid OAuth access token.",
                        **({"subcode": subcode} if subcode else {}),
                    },
                    "scopes": [],
                }
            }
        data: dict[str, Any] = {
            "app_id": "1234567890",
            "type": tok.type,
            "application": "rltr-mktg",
            "data_access_expires_at": tok.data_access_expires_at,
            "expires_at": tok.expires_at,
            "is_valid": True,
            "issued_at": int(time.time()) - 3600,
            "scopes": list(tok.scopes),
            "granular_scopes": [
                {"scope": s, "target_ids": sorted(tok.accounts)} for s in tok.scopes
            ],
            "user_id": tok.user_id,
        }
        if tok.type == "PAGE":
            data["profile_id"] = tok.profile_id
        return {"data": data}

    def _me(self, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        if tok.type == "PAGE" and tok.profile_id in self.pages:
            page = self.pages[tok.profile_id]
            return self._fields(
                "Page", {"id": page.page_id, "name": page.name, "category": page.category}, params
            )
        return self._fields("User", {"id": tok.user_id, "name": tok.user_name}, params)

    def _get_node(self, node_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        if node_id in self.pages:  # a Page's public fields are readable with any valid token
            page = self.pages[node_id]
            return self._fields(
                "Page",
                {
                    "id": page.page_id,
                    "name": page.name,
                    "category": page.category,
                    "link": f"https://www.facebook.com/{page.page_id}",
                    "fan_count": 0,
                },
                params,
            )
        if node_id in self.ig_users and node_id in tok.accounts:
            user = self.ig_users[node_id]
            return self._fields(
                "IGUser",
                {
                    "id": user.ig_user_id,
                    "ig_id": int(user.ig_user_id) % 10**10,
                    "username": user.username,
                    "name": user.name,
                    "media_count": len(user.published_at),
                },
                params,
            )
        if node_id in self.containers:
            container = self.containers[node_id]
            if container.ig_user_id not in tok.accounts:
                raise _not_found(node_id, "GET")
            return self._container_fields(container, params)
        post = next((p for p in self.posts if p.id == node_id and not p.deleted), None)
        if post is not None and post.account_id in tok.accounts:
            if post.platform == "facebook":
                return self._fields(
                    "Post",
                    {
                        "id": post.id,
                        "message": post.message,
                        "permalink_url": post.permalink,
                        "created_time": _iso(post.created_at),
                        "is_published": post.published,
                    },
                    params,
                )
            return self._fields(
                "IGMedia",
                {
                    "id": post.id,
                    "permalink": post.permalink,
                    "caption": post.message,
                    "media_type": "CAROUSEL_ALBUM" if len(post.image_urls) > 1 else "IMAGE",
                    "timestamp": _iso(post.created_at),
                },
                params,
            )
        photo = self.photos.get(node_id)
        if photo is not None and photo.page_id in tok.accounts:
            return self._fields(
                "Photo",
                {
                    "id": photo.id,
                    "link": f"https://www.facebook.com/photo/?fbid={photo.id}",
                    "name": photo.caption,
                    "created_time": _iso(photo.created_at),
                },
                params,
            )
        raise _not_found(node_id, "GET")

    def _container_fields(self, container: FakeContainer, params: dict[str, Any]) -> dict[str, Any]:
        requested = _field_list(params) or ["id"]
        if "status_code" in requested or "status" in requested:
            container.polls += 1
        code = container.status_code
        status = {
            "IN_PROGRESS": "In Progress: Media is still being processed.",
            "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
            "PUBLISHED": "Published: Media has been successfully published.",
            "EXPIRED": "Expired: Media was not published within 24 hours.",
            "ERROR": "Error: Media upload has failed with error code "
            f"{container.plan.error_subcode or 2207001}",
        }[code]
        return self._fields(
            "ShadowIGMediaBuilder",
            {"id": container.id, "status_code": code, "status": status},
            params,
        )

    def _fields(
        self, node_type: str, values: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        requested = _field_list(params)
        if not requested:
            requested = [k for k in ("id", "name") if k in values] or ["id"]
        allowed = _FIELDS[node_type]
        for name in requested:
            if name not in allowed:
                raise GraphFault(
                    100,
                    f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})",
                )
        out = {name: values[name] for name in requested if name in values}
        out.setdefault("id", values["id"])
        return out

    def _delete(self, node_id: str, tok: FakeToken) -> dict[str, Any]:
        post = next((p for p in self.posts if p.id == node_id and not p.deleted), None)
        if post is None or post.account_id not in tok.accounts:
            raise _not_found(node_id, "DELETE")
        post.deleted = True
        return {"success": True}

    # Facebook ---------------------------------------------------------

    def _post_photo(self, page_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        page = self._page_for(page_id, tok, "POST")
        self._require_scope(tok, "pages_manage_posts")
        url = params.get("url")
        if not url:
            raise GraphFault(324, "(#324) Requires upload file")
        problem = self._own_image_problem(str(url), FB_MAX_BYTES, instagram=False)
        if problem is not None:
            raise GraphFault(324, "(#324) Missing or invalid image file")
        published = not ("published" in params and not _truthy(params["published"]))
        photo = FakePhoto(
            self._new_id(200_000_000_000_000),
            page.page_id,
            str(url),
            published,
            caption=str(params.get("caption", "")),
            created_at=self.now(),
        )
        self.photos[photo.id] = photo
        if not published:
            return {"id": photo.id}
        post = self._new_fb_post(page, str(params.get("caption", "")), [str(url)])
        photo.post_id = post.id
        return {"id": photo.id, "post_id": post.id}

    def _post_feed(self, page_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        page = self._page_for(page_id, tok, "POST")
        self._require_scope(tok, "pages_manage_posts")
        message = str(params.get("message", ""))
        attached = _attached_media(params)
        photos: list[FakePhoto] = []
        for i, fbid in enumerate(attached):
            photo = self.photos.get(fbid)
            if photo is None or photo.page_id != page.page_id or photo.published:
                raise GraphFault(100, f"(#100) param attached_media[{i}] has invalid media_fbid")
            if photo.attached_to is not None:
                raise GraphFault(100, f"(#100) media_fbid {fbid} is already attached to a post")
            photos.append(photo)
        if not message and not photos and not params.get("link"):
            raise GraphFault(100, "(#100) Missing message or attachment")
        published = not ("published" in params and not _truthy(params["published"]))
        if not published and "scheduled_publish_time" in params:
            when = int(str(params["scheduled_publish_time"]))
            if when < time.time() + 600:
                raise GraphFault(
                    100,
                    "(#100) The specified scheduled publish time is invalid: it must be at least "
                    "10 minutes in the future.",
                )
        if (
            self.reject_duplicate_messages
            and message
            and not photos
            and any(p.message == message for p in self.visible_posts(page.page_id))
        ):
            raise GraphFault(506, "(#506) Duplicate status message")
        post = self._new_fb_post(page, message, [p.url for p in photos], published=published)
        for photo in photos:
            photo.attached_to = post.id
        return {"id": post.id}

    def _new_fb_post(
        self, page: FakePage, message: str, urls: list[str], *, published: bool = True
    ) -> FakePost:
        post_part = self._new_id(900_000_000_000_000)
        post = FakePost(
            id=f"{page.page_id}_{post_part}",
            account_id=page.page_id,
            platform="facebook",
            message=message,
            image_urls=urls,
            permalink=f"https://www.facebook.com/{page.page_id}/posts/{post_part}",
            created_at=self.now(),
            published=published,
        )
        self.posts.append(post)
        return post

    # Instagram --------------------------------------------------------

    def _post_media(
        self, ig_user_id: str, tok: FakeToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        user = self._ig_for(ig_user_id, tok, "POST")
        self._require_scope(tok, "instagram_content_publish")
        caption = str(params.get("caption", ""))
        media_type = str(params.get("media_type", "IMAGE")).upper()
        is_item = _truthy(params.get("is_carousel_item", "false"))
        self._check_caption(caption)
        children: list[str] = []
        image_url: str | None = None
        if media_type == "CAROUSEL":
            raw = params.get("children", "")
            children = raw if isinstance(raw, list) else [c for c in str(raw).split(",") if c]
            if not 2 <= len(children) <= 10:
                raise GraphFault(
                    100, "(#100) The carousel must have between 2 and 10 items.", subcode=2207028
                )
            for child_id in children:
                child = self.containers.get(child_id)
                if (
                    child is None
                    or child.ig_user_id != user.ig_user_id
                    or not child.is_carousel_item
                ):
                    raise GraphFault(
                        24, f"(#24) The media with id {child_id} cannot be found.", subcode=2207006
                    )
        elif media_type == "IMAGE":
            image_url = params.get("image_url")
            if not image_url:
                raise GraphFault(100, "(#100) The parameter image_url is required.")
            self._check_ig_image(str(image_url))
        else:
            raise GraphFault(100, "(#100) The media type is not supported.", subcode=2207023)
        plan = (
            self._container_plans.popleft()
            if self._container_plans
            else ContainerPlan(polls=self.polls_until_finished)
        )
        container = FakeContainer(
            id=self._new_id(17_890_000_000_000_000),
            ig_user_id=user.ig_user_id,
            media_type=media_type,
            image_url=str(image_url) if image_url else None,
            caption=caption,
            is_carousel_item=is_item,
            children=children,
            plan=plan,
            created_at=self.now(),
            clock=self.now,
        )
        self.containers[container.id] = container
        return {"id": container.id}

    def _check_caption(self, caption: str) -> None:
        if len(caption) > 2200 or len(re.findall(r"#\w+", caption)) > 30:
            raise GraphFault(
                36004,
                "The caption is too long or has too many hashtags.",
                subcode=2207010,
                user_title="Caption too long",
                user_msg="The caption can have at most 2,200 characters and 30 hashtags.",
            )
        if len(re.findall(r"(?<![\w.@])@[A-Za-z0-9_.]+", caption)) > 20:
            raise GraphFault(100, "(#100) Too many tags in the caption.", subcode=2207040)

    def _check_ig_image(self, url: str) -> None:
        problem = self._own_image_problem(url, IG_MAX_BYTES, instagram=True)
        if problem is None:
            return
        code, subcode, message = {
            "missing": (
                9004,
                2207052,
                "Media download has failed. The media URI doesn't meet our requirements.",
            ),
            "format": (36001, 2207005, "The image format is not supported."),
            "size": (36000, 2207004, "The image is too large to download."),
            "ratio": (
                36003,
                2207009,
                "The submitted image with aspect ratio cannot be "
                "published. Please submit an image with a valid aspect ratio.",
            ),
        }[problem]
        raise GraphFault(code, message, subcode=subcode)

    def _own_image_problem(self, url: str, max_bytes: int, *, instagram: bool) -> str | None:
        """Meta fetches image URLs itself; for URLs on this fake, judge the stored image."""
        parts = urlsplit(url)
        if parts.netloc != f"{self._host}:{self._port}" or not parts.path.startswith("/images/"):
            return None
        image = self.images.get(parts.path.removeprefix("/images/"))
        if image is None or image.format is None:
            return "missing"
        if len(image.body) > max_bytes:
            return "size"
        if instagram:
            if image.format != "JPEG":
                return "format"
            ratio = image.width / image.height
            if not 0.8 <= ratio <= 1.91:
                return "ratio"
        return None

    def _post_media_publish(
        self, ig_user_id: str, tok: FakeToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        user = self._ig_for(ig_user_id, tok, "POST")
        self._require_scope(tok, "instagram_content_publish")
        creation_id = str(params.get("creation_id", ""))
        container = self.containers.get(creation_id)
        if container is None or container.ig_user_id != user.ig_user_id:
            raise GraphFault(
                24, "(#24) The media builder with creation_id does not exist.", subcode=2207008
            )
        if container.is_carousel_item:
            raise GraphFault(100, "(#100) A carousel item cannot be published on its own.")
        status = container.status_code
        if status == "PUBLISHED":
            raise GraphFault(100, "(#100) This media has already been published.")
        if status == "EXPIRED":
            raise GraphFault(-2, "The media has expired.", subcode=2207020)
        if status == "ERROR":
            raise GraphFault(
                9007,
                "(#9007) Media upload failed.",
                subcode=container.plan.error_subcode or 2207027,
            )
        if status != "FINISHED":
            raise GraphFault(
                9007,
                "(#9007) Media ID is not available",
                subcode=2207027,
                user_title="Media not ready for publishing",
                user_msg="The media is not ready for publishing, please wait for a moment",
            )
        now = self.now()
        if user.quota_usage(now) >= user.quota_total:
            raise GraphFault(
                9,
                "(#9) Application request limit reached",
                subcode=2207042,
                user_title="Cannot publish post",
                user_msg="You reached maximum number of posts that is allowed to be published "
                "by Content Publishing API.",
            )
        media_id = self._new_id(17_900_000_000_000_000)
        container.published_media_id = media_id
        user.published_at.append(now)
        if container.media_type == "CAROUSEL":
            urls = [self.containers[c].image_url or "" for c in container.children]
        else:
            urls = [container.image_url or ""]
        shortcode = base64.urlsafe_b64encode(int(media_id).to_bytes(8, "big")).decode()[:11]
        self.posts.append(
            FakePost(
                id=media_id,
                account_id=user.ig_user_id,
                platform="instagram",
                message=container.caption,
                image_urls=urls,
                permalink=f"https://www.instagram.com/p/{shortcode}/",
                created_at=now,
            )
        )
        return {"id": media_id}

    def _get_media(self, ig_user_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        user = self._ig_for(ig_user_id, tok, "GET")
        return recent_media(self, user.ig_user_id, params)

    def _get_page_posts(
        self, page_id: str, tok: FakeToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        page = self._page_for(page_id, tok, "GET")
        self._require_scope(tok, "pages_read_engagement")
        return recent_page_posts(self, page.page_id, params)

    def _get_page_photos(
        self, page_id: str, tok: FakeToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        page = self._page_for(page_id, tok, "GET")
        return recent_page_photos(self, page.page_id, params)

    def _get_quota(self, ig_user_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        user = self._ig_for(ig_user_id, tok, "GET")
        requested = _field_list(params) or ["quota_usage"]
        entry: dict[str, Any] = {}
        if "quota_usage" in requested:
            entry["quota_usage"] = user.quota_usage(self.now())
        if "config" in requested:
            entry["config"] = {"quota_total": user.quota_total, "quota_duration": DAY_S}
        return {"data": [entry]}

    # ------------------------------------------------------------ control (other processes)

    async def _control(
        self, request: web.Request, path: str, params: dict[str, Any]
    ) -> web.Response:
        if path == "/__fake__/state":
            return web.json_response(self.state())
        if path == "/__fake__/pages" and request.method == "POST":
            page = self.add_page(str(params["page_id"]), str(params["token"]), str(params["name"]))
            return web.json_response({"id": page.page_id})
        if path == "/__fake__/ig_users" and request.method == "POST":
            quota = params.get("quota_total")
            user = self.add_ig_user(
                str(params["ig_user_id"]),
                str(params["token"]),
                str(params["username"]),
                quota_total=int(str(quota)) if quota is not None else None,
            )
            return web.json_response({"id": user.ig_user_id})
        if path == "/__fake__/config" and request.method == "POST":
            for key in ("latency_s", "image_latency_s"):
                if key in params:
                    setattr(self, key, float(str(params[key])))
            if "polls_until_finished" in params:
                self.polls_until_finished = int(str(params["polls_until_finished"]))
            return web.json_response({"ok": True})
        if path == "/__fake__/jpeg" and request.method == "POST":
            url = self.add_jpeg(
                str(params["name"]), int(str(params["width"])), int(str(params["height"]))
            )
            return web.json_response({"url": url})
        return web.json_response({"error": "unknown control path"}, status=404)


_REVOKED_MESSAGES = {
    458: "Error validating access token: The user has not authorized application 1234567890.",
    459: "Error validating access token: You cannot access the app till you log in to "
    "www.facebook.com and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user "
    "changed their password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired.",
    464: "Error validating access token: Sessions for the user are not allowed because the user "
    "is not a confirmed user.",
    467: "Error validating access token: The access token is invalid.",
}


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method in ("POST", "PUT", "DELETE") and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else "<file>"
    return params


def _field_list(params: dict[str, Any]) -> list[str]:
    return [f.strip() for f in str(params.get("fields", "")).split(",") if f.strip()]


def _attached_media(params: dict[str, Any]) -> list[str]:
    """`attached_media[i]={"media_fbid":…}` form keys, or a JSON array in a JSON body."""
    raw = params.get("attached_media")
    items: list[Any] = []
    if isinstance(raw, list):
        items = raw
    else:
        indexed = []
        for key, value in params.items():
            m = re.fullmatch(r"attached_media\[(\d+)\]", key)
            if m:
                indexed.append((int(m.group(1)), value))
        items = [v for _, v in sorted(indexed)]
    ids = []
    for item in items:
        obj = item
        if isinstance(item, str):
            try:
                obj = json.loads(item)
            except ValueError:
                raise GraphFault(100, "(#100) param attached_media must be JSON") from None
        if not isinstance(obj, dict) or "media_fbid" not in obj:
            raise GraphFault(100, "(#100) param attached_media needs media_fbid")
        ids.append(str(obj["media_fbid"]))
    return ids


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=204)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ts))


async def _serve_forever(args: argparse.Namespace) -> None:
    fake = FakeGraphApi(
        latency_s=args.latency,
        polls_until_finished=args.polls,
        quota_total=args.quota,
        port=args.port,
    )
    await fake.start()
    print(json.dumps({"base_url": fake.base_url, "root_url": fake.root_url}), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Graph API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per Graph call")
    parser.add_argument("--polls", type=int, default=0, help="IN_PROGRESS polls per container")
    parser.add_argument("--quota", type=int, default=100, help="IG posts per 24 h")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(parser.parse_args()))


if __name__ == "__main__":
    main()
