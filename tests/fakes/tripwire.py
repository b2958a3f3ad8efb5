"""A server that must never be reached: it answers 200 and records every request.

It listens on one port on several loopback addresses (127.0.0.1, 127.0.0.2 and, when the
machine has IPv6, ::1), so a test can point a URL or a redirect at "another port",
"another loopback host" or "localhost" and then prove that nothing arrived.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

LOOPBACKS = ("127.0.0.1", "127.0.0.2", "::1")


@dataclass(frozen=True)
class Hit:
    """One request that reached the tripwire."""

    host: str
    path: str


class Tripwire:
    """`async with Tripwire() as trip:` then `trip.url("127.0.0.2")`; `trip.hits` stays empty."""

    def __init__(self, addresses: Sequence[str] = LOOPBACKS) -> None:
        self.addresses = list(addresses)
        self.bound: list[str] = []
        self.hits: list[Hit] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Tripwire:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for address in self.addresses:
            site = web.TCPSite(self._runner, address, self.port)
            with contextlib.suppress(OSError):  # e.g. no IPv6 on this machine
                await site.start()
                self.bound.append(address)
                if not self.port:
                    self.port = self._runner.addresses[0][1]
        assert self.bound, "the tripwire could not listen anywhere"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, host: str = "127.0.0.1", path: str = "/photo.jpg") -> str:
        """A URL on the tripwire's port at `host` (an address or a name)."""
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits.append(Hit(request.host, request.path))
        return web.Response(text="reached", status=404)


class FakeDns(AbstractResolver):
    """A DNS resolver for tests: fixed answers per name, each lookup counted.

    A name with several answer lists gets them in turn (the last one repeats), which is
    how a DNS-rebinding server behaves. Other names (e.g. localhost) go to the system.
    """

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []
        self._system = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        turns = self.answers.get(host.rstrip("."))
        if turns is None:
            return await self._system.resolve(host, port, family)
        turn = turns[min(self.lookups.count(host), len(turns) - 1)]
        self.lookups.append(host)
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in turn
        ]

    async def close(self) -> None:
        """Release the system resolver."""
        await self._system.close()
