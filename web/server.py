"""Starting and stopping the web server inside the running event loop.

Stopping follows aiohttp's graceful shutdown (`AppRunner.cleanup`): the listening socket
closes first, idle keep-alive connections are closed, requests in flight get up to
`SHUTDOWN_TIMEOUT_S` to finish (and are cancelled after that), then the app's cleanup runs.
"""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)

# Our views answer within a few seconds (readiness probes time out after 3 s).
SHUTDOWN_TIMEOUT_S = 10.0


class WebServer:
    """An `AppRunner` and one `TCPSite` on host:port (port 0 picks a free one)."""

    def __init__(
        self,
        app: web.Application,
        host: str,
        port: int,
        *,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT_S,
    ) -> None:
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
        self._host = host
        self._port = port
        self._started = False

    @property
    def port(self) -> int:
        """The port actually listened on (known once started)."""
        for address in self._runner.addresses:
            if isinstance(address, tuple):
                return int(address[1])
        return self._port

    async def start(self) -> None:
        """Bind and start accepting requests."""
        await self._runner.setup()
        self._started = True
        try:
            await web.TCPSite(self._runner, self._host, self._port).start()
        except OSError:
            await self.stop()
            raise
        log.info("web server listening", extra={"host": self._host, "port": self.port})

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (within the grace timeout), return."""
        if self._started:
            self._started = False
            await self._runner.cleanup()
