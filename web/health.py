"""`/healthz`, `/readyz` and `/metrics`.

Readiness is a set of named probes handed in by the process (the database, the bot, the
jobs). A probe answers None when ready, or a few words saying what is wrong; `/readyz`
runs them side by side, each within `PROBE_TIMEOUT_S`, and names every one that failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from services import metrics

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[str | None]]
PROBES = web.AppKey[Mapping[str, Probe]]("readiness_probes")
PROBE_TIMEOUT_S = 3.0


async def healthz(request: web.Request) -> web.Response:
    """200 while the process runs and its event loop answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """200 when every readiness probe passes, else 503 naming what is not ready."""
    probes = request.app[PROBES]
    names = list(probes)
    results = await asyncio.gather(*(_run(name, probes[name]) for name in names))
    failing = {name: reason for name, reason in zip(names, results, strict=True) if reason}
    if failing:
        return web.json_response({"status": "not ready", "failing": failing}, status=503)
    return web.json_response({"status": "ready"})


async def _run(name: str, probe: Probe) -> str | None:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            return await probe()
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT_S:g} s"
    except Exception as exc:
        log.warning("readiness probe raised", extra={"probe": name}, exc_info=exc)
        return f"{type(exc).__name__}: {exc}"[:200]


# Prometheus text (or OpenMetrics when the scraper asks for it) of the process's registry.
metrics_view = make_aiohttp_handler(metrics.REGISTRY)
