"""web/server.py: a free port when asked for 0, and a graceful stop."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web

from web.app import build_web_app
from web.server import WebServer


def _slow_app(delay: float, finished: list[str]) -> web.Application:
    app = build_web_app(probes={})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        finished.append("slow")
        return web.Response(text="done")

    app.router.add_get("/slow", slow)
    return app


async def test_port_zero_binds_a_free_port_and_reports_it() -> None:
    server = WebServer(build_web_app(probes={}), "127.0.0.1", 0)
    await server.start()
    try:
        assert server.port > 0
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{server.port}/healthz") as resp,
        ):
            assert resp.status == 200
    finally:
        await server.stop()


async def test_stop_finishes_requests_in_flight_and_refuses_new_ones() -> None:
    finished: list[str] = []
    server = WebServer(_slow_app(0.5, finished), "127.0.0.1", 0)
    await server.start()
    url = f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as http:
        in_flight = asyncio.create_task(http.get(f"{url}/slow"))
        await asyncio.sleep(0.1)  # the request is being handled
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.05)
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as other:
                await other.get(f"{url}/healthz")
        assert not stopping.done()  # stop waits for the request in flight
        resp = await in_flight
        assert resp.status == 200 and await resp.text() == "done"
        await stopping
    assert finished == ["slow"]


async def test_stop_gives_up_on_a_request_after_the_grace_timeout() -> None:
    finished: list[str] = []
    server = WebServer(_slow_app(30, finished), "127.0.0.1", 0, shutdown_timeout=0.3)
    await server.start()
    async with aiohttp.ClientSession() as http:
        in_flight = asyncio.create_task(http.get(f"http://127.0.0.1:{server.port}/slow"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await server.stop()
        assert time.monotonic() - started < 3
        with pytest.raises(aiohttp.ClientError):
            await in_flight
    assert finished == []
