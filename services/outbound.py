"""The one gate for outgoing downloads: builder pages, image checks and photo downloads.

PRODUCT.md §11: a request goes only where the product was asked to go. Every URL is
checked before each hop (redirects are never followed by aiohttp, only here, hop by hop):

- scope `site` (the scraper): the builder's own origin only — the host of
  LISTINGS_BASE_URL with or without `www.`, on its port (http and https twins allowed
  when the site uses the default ports);
- scope `public` (image checks, downloads): any public address, or the builder's site.

Names are checked where they are resolved: the session's DNS resolver refuses a name
when any of its addresses is loopback, private, link-local, reserved, multicast or
unspecified, and aiohttp connects to exactly the addresses it returned, so a name
cannot resolve to a public address for the check and a private one for the connection
(DNS rebinding). The builder's own origin is exempt: it is configured by the operator
(tests and some installs run it on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from multidict import CIMultiDictProxy
from yarl import URL

log = logging.getLogger(__name__)

Scope = Literal["site", "public"]
"""`site`: the builder's own origin only; `public`: any public address or the builder's site."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = frozenset({80, 443})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# inet_aton spellings of an IPv4 address ("2130706433", "127.1", "0x7f.0.0.1"): the
# system resolver turns them into addresses that a check on the raw name would miss.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


class OutboundError(Exception):
    """A download that did not happen; `reason` is a short phrase for logs."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class OutboundRefused(OutboundError):
    """The guard refused the address: nothing was sent there."""


class ResponseTooLarge(OutboundError):
    """The body is bigger than the cap; `declared` is the Content-Length, if any."""

    def __init__(self, url: str, limit: int, *, declared: int | None, read: int) -> None:
        size = f"{declared} bytes" if declared is not None else f"more than {read} bytes"
        super().__init__(url, f"{size}, over the {limit}-byte cap")
        self.limit = limit
        self.declared = declared
        self.read = read


class TooManyRedirects(OutboundError):
    """More redirects than allowed, or a redirect without a usable Location."""


class DownloadFailed(OutboundError):
    """Connection, timeout or protocol failure."""


def forbidden_address(address: str | IPAddress) -> bool:
    """Whether an address is one no outgoing request may reach (unless it is the builder's).

    Loopback, private, link-local, reserved, multicast, unspecified and every other
    non-global range; IPv6 forms that embed an IPv4 address are judged by it too.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return forbidden_address(ip.ipv4_mapped)
        embedded: list[ipaddress.IPv4Address] = []
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(forbidden_address(v4) for v4 in embedded):
            return True
    return (
        not ip.is_global
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def _bare_host(raw_host: str) -> str:
    return raw_host.lower().rstrip(".").removeprefix("www.")


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class Site:
    """The builder's origin: its host (without `www.`) and, if not a default one, its port."""

    host: str
    port: int | None

    @classmethod
    def from_url(cls, base_url: str) -> Site:
        """The origin of LISTINGS_BASE_URL."""
        url = URL(base_url)
        if url.raw_host is None:
            raise ValueError(f"{base_url!r} has no host")
        port = url.explicit_port
        return cls(_bare_host(url.raw_host), None if port in _DEFAULT_PORTS else port)

    def owns(self, raw_host: str, port: int | None) -> bool:
        """Whether host and port are the builder's (`www.` twin and http/https included)."""
        if _bare_host(raw_host) != self.host:
            return False
        return port in _DEFAULT_PORTS if self.port is None else port == self.port


class OutboundGuard:
    """Decides where requests may go; see the module docstring for the rules."""

    def __init__(self, site_url: str | None) -> None:
        self.site = Site.from_url(site_url) if site_url else None

    def on_site(self, url: str | URL) -> bool:
        """Whether `url` is on the builder's own origin."""
        parsed = url if isinstance(url, URL) else _parse(url)
        if parsed is None or parsed.raw_host is None or self.site is None:
            return False
        return self.site.owns(parsed.raw_host, parsed.port)

    def owns(self, host: str, port: int | None) -> bool:
        """Whether `host:port` is the builder's own origin."""
        return self.site is not None and self.site.owns(host, port)

    def check_url(self, url: str, scope: Scope) -> URL:
        """The parsed URL, or `OutboundRefused` when `scope` does not allow it."""
        parsed = _parse(url)
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise _refused(url, "not an http(s) address")
        host = parsed.raw_host
        if self.owns(host, parsed.port):
            return parsed
        if scope == "site":
            raise _refused(url, f"{host} is not the builder's site")
        ip = _ip(host)
        if ip is None and all(_NUMERIC_LABEL.fullmatch(p) for p in host.rstrip(".").split(".")):
            raise _refused(url, "a numeric host that is not a plain IP address")
        if ip is not None and forbidden_address(ip):
            raise _refused(url, "a private or reserved address")
        return parsed

    def resolver(self, inner: AbstractResolver | None = None) -> GuardedResolver:
        """A DNS resolver that refuses names with a forbidden address (see `GuardedResolver`)."""
        return GuardedResolver(self, inner)


def _refused(url: str, reason: str) -> OutboundRefused:
    log.warning("outbound request refused", extra={"url": url, "reason": reason})
    return OutboundRefused(url, reason)


def _parse(url: str) -> URL | None:
    try:
        return URL(url)
    except (ValueError, TypeError):
        return None


class GuardedResolver(AbstractResolver):
    """Resolves with `inner` and refuses a name if any of its addresses is forbidden.

    aiohttp connects to the addresses returned here and to no others, so the check and
    the connection see the same answer. IP literals never reach a resolver: the guard's
    `check_url` judges them before each hop.
    """

    def __init__(self, guard: OutboundGuard, inner: AbstractResolver | None = None) -> None:
        self._guard = guard
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The addresses of `host`, all of them allowed."""
        results = await self._inner.resolve(host, port, family)
        if self._guard.owns(host, port):
            return results
        bad = [r["host"] for r in results if forbidden_address(r["host"])]
        if bad:
            raise _refused(host, f"resolves to a private or reserved address ({bad[0]})")
        return results

    async def close(self) -> None:
        """Close the inner resolver."""
        await self._inner.close()


@dataclass(frozen=True)
class Download:
    """A response after any redirects: the body is read (capped) only for 2xx answers."""

    url: str
    final_url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters ("" when absent)."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


async def read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The body, or `ResponseTooLarge` as soon as it is known to exceed `max_bytes`."""
    url = str(resp.url)
    declared = resp.content_length
    if declared is not None and declared > max_bytes:
        raise ResponseTooLarge(url, max_bytes, declared=declared, read=0)
    buf = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        buf += chunk
        if len(buf) > max_bytes:
            raise ResponseTooLarge(url, max_bytes, declared=None, read=len(buf))
    return bytes(buf)


class OutboundClient:
    """An HTTP session whose every request passes the guard.

    `site_url` is LISTINGS_BASE_URL (None: no site, so only public addresses);
    `resolver` is the DNS resolver under the guard (tests pass a fake one).
    Create it inside a running event loop; close it with `close()` or `async with`.
    """

    def __init__(
        self,
        site_url: str | None,
        *,
        resolver: AbstractResolver | None = None,
        limit: int = 100,
        headers: Mapping[str, str] | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> None:
        self.guard = OutboundGuard(site_url)
        self._resolver = self.guard.resolver(resolver)
        connector = aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300, resolver=self._resolver)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=dict(headers or {}),
            timeout=timeout or aiohttp.ClientTimeout(total=30, sock_connect=10),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # no proxy from the environment: the guard sees every hop
            raise_for_status=False,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._session.closed

    async def close(self) -> None:
        """Close the session and the resolver."""
        if not self._session.closed:
            await self._session.close()
            await self._resolver.close()

    @asynccontextmanager
    async def get_once(
        self,
        url: str,
        *,
        scope: Scope,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One GET of `url` after the guard's check; a redirect is returned, not followed.

        Raises `OutboundRefused` before sending anything when the guard says no.
        """
        self.guard.check_url(url, scope)
        async with self._session.get(
            url, headers=dict(headers or {}), allow_redirects=False
        ) as resp:
            yield resp

    async def fetch_bounded(
        self,
        url: str,
        *,
        scope: Scope,
        max_bytes: int,
        timeout_s: float,
        max_redirects: int = 5,
        headers: Mapping[str, str] | None = None,
    ) -> Download:
        """GET `url`, following redirects hop by hop through the guard, within limits.

        Any status is returned (the body is read, up to `max_bytes`, for 2xx only);
        `timeout_s` bounds the whole download, redirects included. Raises
        `OutboundRefused`, `ResponseTooLarge`, `TooManyRedirects` or `DownloadFailed`.
        """
        try:
            async with asyncio.timeout(timeout_s):
                return await self._follow(url, scope, max_bytes, max_redirects, headers)
        except TimeoutError:
            raise DownloadFailed(url, f"no answer within {timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise DownloadFailed(url, type(exc).__name__) from exc

    async def _follow(
        self,
        url: str,
        scope: Scope,
        max_bytes: int,
        max_redirects: int,
        headers: Mapping[str, str] | None,
    ) -> Download:
        current = url
        for _ in range(max_redirects + 1):
            async with self.get_once(current, scope=scope, headers=headers) as resp:
                if resp.status in REDIRECT_STATUSES:
                    location = resp.headers.get("Location")
                    if not location:
                        raise TooManyRedirects(url, f"HTTP {resp.status} without a Location")
                    current = urljoin(current, location)
                    continue
                body = await read_capped(resp, max_bytes) if 200 <= resp.status < 300 else b""
                return Download(url, current, resp.status, resp.headers, body)
        raise TooManyRedirects(url, f"more than {max_redirects} redirects")
