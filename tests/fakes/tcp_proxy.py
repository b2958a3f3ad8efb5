"""A TCP proxy to put between the app and PostgreSQL, to stage an outage.

    async with TcpProxy("127.0.0.1", 5432) as proxy:
        url = ...port=proxy.port...
        await proxy.cut()      # every open connection dropped, new ones refused
        await proxy.restore()  # listening again on the same port
        await proxy.freeze()   # a black hole: connections stay open, nothing gets through

`upstream_ports()` are the local ports of the proxy's connections to the server, i.e.
`client_port` in `pg_stat_activity`: how a test finds the app's backends to terminate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream host and port, until cut or frozen."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()  # both ends of every connection
        self._upstreams: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def __aenter__(self) -> TcpProxy:
        await self.restore()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cut()

    async def restore(self) -> None:
        """Listen (again, on the same port once it is known) and let data through."""
        self._flowing.set()
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop every open one, both ways, at once."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self._upstreams.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def freeze(self) -> None:
        """Keep every connection open but let nothing through (what is sent is lost), and
        leave new connections hanging: a network path that silently broke."""
        self._flowing.clear()

    def upstream_ports(self) -> list[int]:
        """Local ports of the open connections to the upstream server."""
        return [int(up.get_extra_info("sockname")[1]) for up in self._upstreams]

    def _track(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        await self._flowing.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        self._upstreams.add(up_writer)
        pair = (writer, up_writer)
        self._track(self._pipe(reader, up_writer, pair))
        self._track(self._pipe(up_reader, writer, pair))

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while data := await source.read(65536):
                if self._flowing.is_set():
                    sink.write(data)
                    await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            # One side closed: close both (what was written still goes out first).
            for writer in pair:
                self._writers.discard(writer)
                self._upstreams.discard(writer)
                writer.close()
