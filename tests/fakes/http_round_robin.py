"""A small HTTP load balancer for tests: each request goes to the next backend in turn.

    async with RoundRobinProxy([port_a, port_b]) as proxy:
        proxy.url               # http://127.0.0.1:<port>, what PUBLIC_URL points at
        proxy.served            # requests answered by each backend port, by path

Like a reverse proxy in front of replicas: method, path, query, body and headers pass
through (hop-by-hop headers excepted); a backend that cannot be reached is skipped for
that request (the next one answers), as nginx's `proxy_next_upstream error` does.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import aiohttp
from aiohttp import web

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class RoundRobinProxy:
    """Forwards 127.0.0.1:<port> to `backend_ports` in turn."""

    def __init__(self, backend_ports: Sequence[int]) -> None:
        self.backend_ports = list(backend_ports)
        self.port = 0
        self.served: dict[int, Counter[str]] = {p: Counter() for p in self.backend_ports}
        self.failovers = 0
        self._turn = itertools.cycle(range(len(self.backend_ports)))
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> RoundRobinProxy:
        self._client = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        first = next(self._turn)
        for i in range(len(self.backend_ports)):
            port = self.backend_ports[(first + i) % len(self.backend_ports)]
            url = f"http://127.0.0.1:{port}{request.rel_url}"
            try:
                async with self._client.request(
                    request.method, url, data=body, headers=headers, allow_redirects=False
                ) as upstream:
                    payload = await upstream.read()
                    self.served[port][request.path] += 1
                    return web.Response(
                        status=upstream.status,
                        body=payload,
                        headers={
                            k: v
                            for k, v in upstream.headers.items()
                            if k.lower() not in _HOP_BY_HOP
                        },
                    )
            except aiohttp.ClientConnectionError:
                self.failovers += 1
        return web.Response(status=502, text="no backend answered")
