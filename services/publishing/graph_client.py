"""A small Graph API client: token as a parameter, JSON in and out, errors translated, retries.

Retries follow one rule that keeps publishing at most once: a call is repeated only when the
Graph answered with a retryable error (so it did nothing), when the connection could not be
opened, or when the call is idempotent. A non-idempotent call (one that makes a post visible)
that times out or loses its connection after being sent raises `outcome_unknown` instead.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import quote

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from services import metrics
from services.publishing.graph_errors import (
    GraphError,
    Platform,
    PublishError,
    classify,
    transport_error,
)
from services.redaction import redact, remember_secret

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]
ParamValue = str | int | float | bool | list[Any] | dict[str, Any] | None

# When a throttled call carries no usage header, tell the caller to wait at least this long.
DEFAULT_RATE_LIMIT_WAIT_S = 60.0


class GraphClient:
    """Calls the Graph API at `base_url` (e.g. `https://graph.facebook.com/vNN.N`; the version
    this product uses is in `services.graph_versions`).

    Every call takes the access token explicitly (None for the OAuth token endpoints); it
    travels in an `Authorization: Bearer` header (never in a URL, which proxies and servers
    log) and is redacted from everything this client logs or raises.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout_s: float = 30,
        max_retries: int = 3,
        backoff_base_s: float = 1.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.max_backoff_s = max_backoff_s

    @property
    def call_deadline_s(self) -> float:
        """The longest one call may go on, retries and waits included: after it, this
        client has certainly stopped sending it."""
        return (self.max_retries + 1) * self.timeout_s + self.max_retries * self.max_backoff_s

    @property
    def base_url(self) -> str:
        """The Graph root every path is joined to."""
        return self._base_url

    async def get(
        self,
        path: str,
        token: str | None,
        params: Mapping[str, ParamValue] | None = None,
        *,
        platform: Platform | None = None,
    ) -> JsonObject:
        """GET `path` with `params`; reads are idempotent, so every retryable failure is retried."""
        return await self.request("GET", path, token, params, idempotent=True, platform=platform)

    async def post(
        self,
        path: str,
        token: str | None,
        data: Mapping[str, ParamValue] | None = None,
        *,
        idempotent: bool = False,
        platform: Platform | None = None,
    ) -> JsonObject:
        """POST a form to `path`. Pass `idempotent=True` only when a repeat cannot double-post."""
        return await self.request(
            "POST", path, token, data, idempotent=idempotent, platform=platform
        )

    async def request(
        self,
        method: str,
        path: str,
        token: str | None,
        params: Mapping[str, ParamValue] | None = None,
        *,
        idempotent: bool,
        platform: Platform | None = None,
    ) -> JsonObject:
        """Send one Graph call with retries; raise `PublishError` on failure."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            retry=retry_if_exception(self._should_retry),
            wait=self._wait,
            before_sleep=lambda state: _log_retry(method, path, state, self.max_retries),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(method, path, token, params, idempotent, platform)
        except PublishError as exc:
            metrics.graph_error(exc.kind)
            if exc.kind == "rate_limited" and exc.retry_after_s is None:
                exc.retry_after_s = DEFAULT_RATE_LIMIT_WAIT_S
            raise
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, PublishError) or not exc.retryable:
            return False
        # A wait longer than we are willing to sleep is left to the caller's scheduler.
        return exc.retry_after_s is None or exc.retry_after_s <= self.max_backoff_s

    def _wait(self, state: RetryCallState) -> float:
        exponential = self.backoff_base_s * 2.0 ** (state.attempt_number - 1)
        jittered = exponential * random.uniform(0.5, 1.0)
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        hint = exc.retry_after_s if isinstance(exc, PublishError) else None
        return min(max(jittered, hint or 0.0), self.max_backoff_s)

    async def _once(
        self,
        method: str,
        path: str,
        token: str | None,
        params: Mapping[str, ParamValue] | None,
        idempotent: bool,
        platform: Platform | None,
    ) -> JsonObject:
        url = f"{self._base_url}/{quote(path.lstrip('/'), safe='/_-.')}"
        fields = {k: _encode(v) for k, v in (params or {}).items() if v is not None}
        query, form = (fields or None, None) if method == "GET" else (None, fields or None)
        # No token: the OAuth endpoints authenticate the app by its id and secret instead.
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        remember_secret(token)
        started = time.monotonic()
        try:
            async with self._session.request(
                method, url, params=query, data=form, headers=auth, timeout=self._timeout
            ) as resp:
                raw = await resp.read()
                status = resp.status
                headers = resp.headers
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # The connection was never opened, so nothing was sent: always safe to retry.
            raise transport_error(
                "connection failed",
                retryable=True,
                platform=platform,
                detail=f"{method} {path}: {redact(repr(exc), token)}",
            ) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            what = "timed out" if isinstance(exc, TimeoutError) else "connection lost"
            raise transport_error(
                what,
                retryable=idempotent,
                platform=platform,
                detail=f"{method} {path}: {type(exc).__name__}: {redact(str(exc), token)}",
            ) from None
        elapsed = time.monotonic() - started
        log.debug("Graph %s %s -> %s in %.3f s", method, path, status, elapsed)
        body = _parse_json(raw)
        if 200 <= status < 300:
            if isinstance(body, dict):
                return body
            raise self._bad_success(method, path, status, raw, token, idempotent, platform)
        self._raise_error(method, path, status, headers, body, raw, token, idempotent, platform)

    def _raise_error(
        self,
        method: str,
        path: str,
        status: int,
        headers: Mapping[str, str],
        body: Any,
        raw: bytes,
        token: str | None,
        idempotent: bool,
        platform: Platform | None,
    ) -> NoReturn:
        graph = GraphError.from_body(status, body, secret=token)
        if graph.code is None and status >= 500 and not idempotent:
            # A proxy or gateway failure after sending: the post may exist.
            raise transport_error(
                f"HTTP {status}",
                retryable=False,
                platform=platform,
                detail=f"{method} {path}: {redact(raw[:300].decode('utf-8', 'replace'), token)}",
            )
        err = classify(graph, platform)
        if err.retryable:
            err.retry_after_s = _throttle_hint_s(headers)
        log.info(
            "Graph %s %s failed: HTTP %s code=%s subcode=%s kind=%s fbtrace_id=%s",
            method,
            path,
            status,
            graph.code,
            graph.subcode,
            err.kind,
            graph.fbtrace_id,
        )
        raise err

    def _bad_success(
        self,
        method: str,
        path: str,
        status: int,
        raw: bytes,
        token: str | None,
        idempotent: bool,
        platform: Platform | None,
    ) -> PublishError:
        detail = f"{method} {path}: HTTP {status} non-object body " + redact(
            raw[:300].decode("utf-8", "replace"), token
        )
        if not idempotent:
            return transport_error(
                "unreadable answer", retryable=False, platform=platform, detail=detail
            )
        return PublishError(
            "unknown",
            False,
            "Facebook sent an answer we could not read; tap Retry, and if it happens again "
            "contact support.",
            http_status=status,
            detail=detail,
        )


def _encode(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _throttle_hint_s(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait according to `Retry-After` or Meta's business-use-case usage header."""
    waits: list[float] = []
    retry_after = headers.get("Retry-After")
    if retry_after and retry_after.strip().isdigit():
        waits.append(float(retry_after.strip()))
    usage = headers.get("X-Business-Use-Case-Usage")
    if usage:
        try:
            parsed = json.loads(usage)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            for entries in parsed.values():
                for entry in entries if isinstance(entries, list) else []:
                    minutes = (
                        entry.get("estimated_time_to_regain_access")
                        if isinstance(entry, dict)
                        else None
                    )
                    if isinstance(minutes, int | float) and minutes > 0:
                        waits.append(float(minutes) * 60)
    return max(waits) if waits else None


def _log_retry(method: str, path: str, state: RetryCallState, max_retries: int) -> None:
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    sleep = state.next_action.sleep if state.next_action is not None else 0.0
    if isinstance(exc, PublishError):
        metrics.graph_error(exc.kind)
        log.warning(
            "Graph %s %s failed (%s, code=%s subcode=%s); retry %d/%d in %.2f s",
            method,
            path,
            exc.kind,
            exc.code,
            exc.subcode,
            state.attempt_number,
            max_retries,
            sleep,
        )
