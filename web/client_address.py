"""Who is asking: the client's address, also behind reverse proxies (TRUSTED_PROXY_HOPS).

Behind Caddy (docker-compose.yml) every request comes from the proxy, so the dashboard's
sign-in limit, counted per address and email, would count everyone as one address. Each
proxy appends the address it saw to X-Forwarded-For, so with `hops` trusted proxies in
front the client is the `hops`-th entry from the right; anything further left is whatever
the client sent and is ignored. With no proxy configured (the default) the header is
ignored altogether: anyone can write it.

Only the address is taken from the proxies (not the scheme or host, which the dashboard
takes from PUBLIC_URL), so a small middleware does it rather than a library that
rewrites all three.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware


def client_address(peer: str | None, forwarded_for: Sequence[str], hops: int) -> str | None:
    """The client's address: the one `hops` proxies from the right of the X-Forwarded-For
    headers (`forwarded_for`, in order), or `peer` (the connection's own) when there are
    no proxies, too few entries or the entry is no IP address."""
    if hops <= 0:
        return peer
    entries = [e.strip() for header in forwarded_for for e in header.split(",") if e.strip()]
    if len(entries) < hops:
        return peer
    candidate = entries[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


def client_address_middleware(hops: int) -> Middleware:
    """An aiohttp middleware that sets `request.remote` to `client_address`."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        address = client_address(
            request.remote, request.headers.getall("X-Forwarded-For", []), hops
        )
        if address is not None and address != request.remote:
            request = request.clone(remote=address)
        return await handler(request)

    return middleware
