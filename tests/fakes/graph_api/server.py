"""The fake Graph server: state, lifecycle, clock, test set-up and queries, dispatch of
every request, the routing table, and the control API for other processes (`python -m`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fnmatch
import json
import time
from collections import deque
from typing import Any

from aiohttp import web

from services.graph_versions import CURRENT_GRAPH_VERSION
from tests.fakes.graph_api.graph_faults import GraphFault, graph_error_body
from tests.fakes.graph_api.ig_containers import InstagramMethods
from tests.fakes.graph_api.images import ImageMethods
from tests.fakes.graph_api.insights import InsightsMethods
from tests.fakes.graph_api.node_reads import NodeReads
from tests.fakes.graph_api.pages import PageMethods
from tests.fakes.graph_api.records import (
    _VERSION,
    IG_SCOPES,
    PAGE_SCOPES,
    Action,
    ContainerPlan,
    Extension,
    Failure,
    FakeCall,
    FakeContainer,
    FakeIgUser,
    FakeImage,
    FakePage,
    FakePhoto,
    FakePost,
    FakeToken,
)
from tests.fakes.graph_api.request_params import _drop, _read_params
from tests.fakes.graph_api.tokens import TokenMethods


class FakeGraphApi(
    TokenMethods,
    NodeReads,
    PageMethods,
    InstagramMethods,
    InsightsMethods,
    ImageMethods,
):
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
        # Posts too few people saw: insights answer code 10 (EXTERNAL_APIS.md §8.1).
        self.few_viewers: set[str] = set()
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

    def now(self) -> float:
        """The fake's clock: real time moved by `advance` (container expiry, timestamps)."""
        return time.time() + self.clock_offset_s

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward, e.g. past a container's 24 hours."""
        self.clock_offset_s += seconds

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
