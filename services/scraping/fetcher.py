"""A polite HTTP fetcher for one builder site.

One shared session through the outbound guard (services/outbound.py): the builder's
host only, redirects followed by hand and checked hop by hop, so a redirect off the
site is not followed and a loop fails fast. A clear User-Agent; robots.txt honoured
(RFC 9309, its Crawl-delay capped at `MAX_CRAWL_DELAY_S`); a few requests at a time
with a small delay; retries with exponential back-off on network errors, 408, 429 and
5xx (honouring Retry-After); a cap on what is read; conditional requests (ETag /
Last-Modified).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDict
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from services import metrics
from services.outbound import (
    REDIRECT_STATUSES,
    OutboundClient,
    OutboundError,
    OutboundGuard,
    OutboundRefused,
    ResponseTooLarge,
    read_capped,
)
from services.scraping.encoding import Decoded, decode_bytes

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    "rltr-mktg/0.1 (+listing monitor for real estate agents; sitemap-driven, honours robots.txt)"
)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_CRAWL_DELAY_S = 30.0
"""The longest Crawl-delay obeyed: one robots.txt line asking for more (even a day) would
otherwise stall every pass; at 30 s a pass still gets ~40 homes done within its deadline."""
_ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB


class FetchError(OutboundError):
    """A URL could not be fetched; `reason` is a short phrase for logs and summaries."""


class HttpStatusError(FetchError):
    """The server answered with an error status (after any retries)."""

    def __init__(self, url: str, status: int, reason: str | None = None) -> None:
        super().__init__(url, reason or f"HTTP {status}")
        self.status = status


class NetworkError(FetchError):
    """Connection, timeout or incomplete-body failure (after any retries)."""


class TooLargeError(FetchError):
    """The response is bigger than the fetcher's byte cap; reading stopped there."""


class RedirectError(FetchError):
    """A redirect loop, too many redirects, or a redirect without a usable Location."""


class RobotsDisallowedError(FetchError):
    """robots.txt forbids this URL for our User-Agent (no request was sent)."""


class RefusedError(FetchError):
    """The URL, or a redirect to it, leaves the builder's site (no request was sent there)."""


class _Retry(Exception):
    """Internal: a failure worth another attempt, optionally after a server-given delay."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(error.reason)
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchResult:
    """A successful response. `from_cache` is true when a 304 was answered from the cache."""

    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None
    charset: str | None
    from_cache: bool = False

    def decode(self) -> Decoded:
        """The body as text, decoded tolerantly (see `encoding.decode_bytes`)."""
        return decode_bytes(self.body, self.charset)


@dataclass(frozen=True)
class RobotsRules:
    """What robots.txt allows for one origin."""

    parser: RobotFileParser | None
    allow_all: bool

    def can_fetch(self, user_agent: str, url: str) -> bool:
        """Whether `user_agent` may fetch `url`."""
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(user_agent, url)

    def crawl_delay(self, user_agent: str) -> float | None:
        """The Crawl-delay for `user_agent`, if the file sets one."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: CIMultiDict[str]
    body: bytes
    charset: str | None


@dataclass
class _Validators:
    etag: str | None
    last_modified: str | None
    body: bytes
    content_type: str | None
    charset: str | None


@dataclass
class FetchCache:
    """State worth keeping between passes: robots.txt rules and conditional-request validators.

    Give the same cache to each pass's fetcher so that an unchanged site costs only the
    sitemap request(s): robots.txt is re-read after `robots_ttl_s`, and the sitemap is
    asked for with If-None-Match / If-Modified-Since.
    """

    robots_ttl_s: float = 6 * 3600.0
    _robots: dict[str, tuple[float, RobotsRules]] = field(default_factory=dict)
    _validators: dict[str, _Validators] = field(default_factory=dict)

    def validators(self, url: str) -> _Validators | None:
        """The last cached answer (with its validators) for `url`."""
        return self._validators.get(url)

    def store_validators(self, url: str, validators: _Validators) -> None:
        """Remember the answer for `url` for the next conditional request."""
        self._validators[url] = validators

    def robots(self, origin: str) -> RobotsRules | None:
        """Cached, still-fresh rules for `origin`."""
        cached = self._robots.get(origin)
        if cached is None or time.monotonic() - cached[0] > self.robots_ttl_s:
            return None
        return cached[1]

    def store_robots(self, origin: str, rules: RobotsRules) -> None:
        """Remember `origin`'s rules from now."""
        self._robots[origin] = (time.monotonic(), rules)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


class PoliteFetcher:
    """Fetches pages of one site politely: `async with PoliteFetcher(base_url) as fetcher:`.

    Only URLs on `site_url`'s host are fetched (see services/outbound.py); `resolver` is
    the DNS resolver under the guard (tests pass a fake one).
    """

    def __init__(
        self,
        site_url: str,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        concurrency: int = 4,
        delay_s: float = 0.25,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        max_attempts: int = 4,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 30.0,
        max_retry_after_s: float = 120.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        respect_robots: bool = True,
        cache: FetchCache | None = None,
        max_crawl_delay_s: float = MAX_CRAWL_DELAY_S,
        resolver: AbstractResolver | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.site_url = site_url
        self.guard = OutboundGuard(site_url)
        self.user_agent = user_agent
        self.concurrency = concurrency
        self.delay_s = delay_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.respect_robots = respect_robots
        self.cache = cache if cache is not None else FetchCache()
        self.max_crawl_delay_s = max_crawl_delay_s
        self._resolver = resolver
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=connect_timeout_s)
        self._client: OutboundClient | None = None
        self._semaphore = asyncio.Semaphore(concurrency)
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._not_before = 0.0  # loop time before which no request starts (Retry-After)
        self._next_slot = 0.0  # loop time of the next request start when Crawl-delay applies
        self._min_interval = 0.0
        self._requests_made = 0
        self._robots_requests = 0

    @property
    def requests_made(self) -> int:
        """Every HTTP request actually sent: robots.txt, retries and redirect hops included."""
        return self._requests_made

    @property
    def robots_requests(self) -> int:
        """The part of `requests_made` spent on robots.txt."""
        return self._robots_requests

    @property
    def crawl_interval_s(self) -> float:
        """Seconds between request starts that robots.txt's Crawl-delay imposes (0: none)."""
        return self._min_interval

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Create the shared session (idempotent)."""
        if self._client is None:
            self._client = OutboundClient(
                self.site_url,
                resolver=self._resolver,
                limit=self.concurrency,
                headers={
                    "User-Agent": self.user_agent,
                    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                },
                timeout=self._timeout,
            )

    async def close(self) -> None:
        """Close the shared session."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def fetch(self, url: str, *, conditional: bool = False) -> FetchResult:
        """GET `url`, following redirects, retrying transient failures.

        With `conditional=True` the request carries the validators of the last answer for
        this URL and a 304 is answered from the cache (`from_cache=True`).
        Raises a `FetchError` subclass when the URL cannot be fetched.
        """
        try:
            return await self._fetch_with_retries(url, conditional=conditional, robots=True)
        except FetchError as exc:
            metrics.scrape_failure(exc)
            raise

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch `url` (reads robots.txt once per origin).

        A URL off the builder's site is never allowed (and its robots.txt never read).
        """
        if not self.guard.on_site(url):
            return False
        if not self.respect_robots:
            return True
        rules = await self._robots_for(_origin(url))
        return rules.can_fetch(self.user_agent, url)

    # -- internals -------------------------------------------------------------------------

    async def _fetch_with_retries(
        self, url: str, *, conditional: bool, robots: bool
    ) -> FetchResult:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retry),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._follow(url, conditional=conditional, robots=robots)
        except _Retry as exc:
            error = exc.error
            if self.max_attempts > 1:
                error.reason = f"{error.reason} (gave up after {self.max_attempts} attempts)"
                error.args = (f"{error.url}: {error.reason}",)
            raise error from exc.__cause__
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retry) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after_s)
        backoff: float = self.backoff_base_s * 2 ** (state.attempt_number - 1)
        return min(self.backoff_max_s, backoff)

    async def _follow(self, url: str, *, conditional: bool, robots: bool) -> FetchResult:
        current = urldefrag(url).url
        seen = {current}
        cached = self.cache.validators(url) if conditional else None
        for hop in range(self.max_redirects + 1):
            self._check_on_site(url, current, hop)
            if robots:
                await self._check_robots(current)
            headers: dict[str, str] = {}
            if cached is not None and hop == 0:
                if cached.etag:
                    headers["If-None-Match"] = cached.etag
                if cached.last_modified:
                    headers["If-Modified-Since"] = cached.last_modified
            answer = await self._send(url, current, headers, robots_request=not robots)
            status = answer.status
            if status in REDIRECT_STATUSES:
                location = answer.headers.get("Location")
                if not location:
                    raise RedirectError(url, f"HTTP {status} without a Location")
                current = urldefrag(urljoin(current, location)).url
                if current in seen:
                    raise RedirectError(url, f"redirect loop (back to {current})")
                seen.add(current)
                continue
            if status == 304 and cached is not None:
                return FetchResult(
                    url=url,
                    final_url=current,
                    status=304,
                    body=cached.body,
                    content_type=cached.content_type,
                    charset=cached.charset,
                    from_cache=True,
                )
            if status in (408, 429) or 500 <= status <= 599:
                raise self._retry_for_status(url, status, answer.headers)
            if not 200 <= status <= 299:
                raise HttpStatusError(url, status)
            content_type = answer.headers.get("Content-Type")
            etag, last_modified = answer.headers.get("ETag"), answer.headers.get("Last-Modified")
            if conditional and (etag or last_modified):
                self.cache.store_validators(
                    url, _Validators(etag, last_modified, answer.body, content_type, answer.charset)
                )
            return FetchResult(
                url=url,
                final_url=current,
                status=status,
                body=answer.body,
                content_type=content_type,
                charset=answer.charset,
            )
        raise RedirectError(url, f"more than {self.max_redirects} redirects")

    def _check_on_site(self, url: str, current: str, hop: int) -> None:
        """Refuse, before robots.txt or anything else is read there, a URL off the site."""
        try:
            self.guard.check_url(current, "site")
        except OutboundRefused as exc:
            if hop == 0:
                raise RefusedError(url, exc.reason) from None
            logger.warning("%s redirects off the builder's site to %s; not followed", url, current)
            raise RefusedError(
                url, f"redirected off the builder's site to {current}; not followed"
            ) from None

    async def _send(
        self, url: str, target: str, headers: dict[str, str], *, robots_request: bool
    ) -> _Answer:
        """One HTTP request (no redirects followed); the body is read only for 2xx answers."""
        cap = min(self.max_bytes, _ROBOTS_MAX_BYTES) if robots_request else self.max_bytes
        async with self._slot(robots_request=robots_request):
            client = self._require_client()
            try:
                async with client.get_once(target, scope="site", headers=headers) as resp:
                    body = b""
                    if 200 <= resp.status <= 299:
                        body = await read_capped(resp, cap)
                    return _Answer(resp.status, resp.headers.copy(), body, resp.charset)
            except ResponseTooLarge as exc:
                size = f" ({exc.declared} bytes)" if exc.declared is not None else ""
                raise TooLargeError(url, f"larger than the {_megabytes(cap)} cap{size}") from None
            except OutboundRefused as exc:
                raise RefusedError(url, exc.reason) from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise _Retry(NetworkError(url, _describe(exc))) from exc

    def _retry_for_status(self, url: str, status: int, headers: CIMultiDict[str]) -> Exception:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        error = HttpStatusError(url, status)
        if retry_after is not None:
            if retry_after > self.max_retry_after_s:
                return HttpStatusError(
                    url, status, f"HTTP {status}, server asked to wait {retry_after:.0f} s"
                )
            loop = asyncio.get_running_loop()
            # Retry-After speaks for the whole site: hold every request, not only this one.
            self._not_before = max(self._not_before, loop.time() + retry_after)
        return _Retry(error, retry_after)

    def _require_client(self) -> OutboundClient:
        if self._client is None:
            raise RuntimeError("PoliteFetcher is not open: use `async with PoliteFetcher(url)`")
        return self._client

    @contextlib.asynccontextmanager
    async def _slot(self, *, robots_request: bool) -> AsyncIterator[None]:
        """One request's share: a semaphore permit, pacing, and the counters."""
        async with self._semaphore:
            await self._pace()
            self._requests_made += 1
            metrics.SCRAPE_REQUESTS.inc()
            if robots_request:
                self._robots_requests += 1
            yield

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = max(now + self.delay_s, self._not_before)
        if self._min_interval > 0:
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._min_interval
            start = max(start, slot)
        if start > now:
            await asyncio.sleep(start - now)
        # A Retry-After may have arrived while we slept.
        if self._not_before > loop.time():
            await asyncio.sleep(self._not_before - loop.time())

    async def _check_robots(self, url: str) -> None:
        if not self.respect_robots:
            return
        rules = await self._robots_for(_origin(url))
        if not rules.can_fetch(self.user_agent, url):
            if rules.parser is None:
                raise RobotsDisallowedError(url, "robots.txt could not be read, so not fetched")
            raise RobotsDisallowedError(url, "disallowed by robots.txt")

    async def _robots_for(self, origin: str) -> RobotsRules:
        rules = self.cache.robots(origin)
        if rules is not None:
            self._apply_crawl_delay(rules)
            return rules
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            rules = self.cache.robots(origin)
            if rules is None:
                rules = await self._read_robots(origin)
            self._apply_crawl_delay(rules)
            return rules

    async def _read_robots(self, origin: str) -> RobotsRules:
        url = f"{origin}/robots.txt"
        try:
            result = await self._fetch_with_retries(url, conditional=False, robots=False)
        except HttpStatusError as exc:
            if 400 <= exc.status <= 499:
                # RFC 9309: an unavailable robots.txt (4xx) means no restrictions.
                rules = RobotsRules(parser=None, allow_all=True)
                self.cache.store_robots(origin, rules)
                return rules
            logger.warning("robots.txt at %s unreachable (%s); fetching nothing", url, exc.reason)
            return RobotsRules(parser=None, allow_all=False)
        except FetchError as exc:
            # RFC 9309: unreachable (5xx, network) means complete disallow; not cached.
            logger.warning("robots.txt at %s unreachable (%s); fetching nothing", url, exc.reason)
            return RobotsRules(parser=None, allow_all=False)
        parser = RobotFileParser(url)
        parser.parse(result.decode().text.splitlines())
        rules = RobotsRules(parser=parser, allow_all=True)
        self.cache.store_robots(origin, rules)
        return rules

    def _apply_crawl_delay(self, rules: RobotsRules) -> None:
        asked = rules.crawl_delay(self.user_agent)
        if asked is None:
            return
        delay = min(asked, self.max_crawl_delay_s)
        if delay <= self._min_interval:
            return
        if asked > delay:
            logger.warning(
                "robots.txt asks for a Crawl-delay of %s s; waiting %s s between requests instead",
                asked,
                delay,
            )
        else:
            logger.info("robots.txt asks for a Crawl-delay of %s s; honouring it", delay)
        self._min_interval = delay
