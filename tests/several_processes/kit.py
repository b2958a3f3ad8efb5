"""Two real `rltr-mktg run` processes in webhook mode behind a round-robin proxy, with
the fake Telegram, builder site and Graph API: what the e2e test and bench/scale.py use."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

from services.crypto import generate_key
from tests.fakes.builder_site import FakeBuilderSite
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.http_round_robin import RoundRobinProxy
from tests.fakes.telegram_api import Call, FakeTelegram, FloodLimits

ADMIN_ID = 900001
PAGE_ID = "104857392018374"
PAGE_TOKEN = "EAAGpageTokenForSunnyHomes0123456789abcdefghijklmnop"
WEBHOOK_PATH = "/telegram/webhook"


class SiteWithPhotos(FakeBuilderSite):
    """The builder's site, serving a JPEG for every photo its pages name."""

    _jpeg: bytes = b""

    async def _respond(self, request: web.Request, path: str) -> web.StreamResponse:
        if path.startswith("/wp-content/uploads/") and path.endswith(".jpg"):
            if not self._jpeg:
                buf = io.BytesIO()
                Image.new("RGB", (1200, 800), (90, 140, 200)).save(buf, format="JPEG")
                type(self)._jpeg = buf.getvalue()
            return web.Response(body=self._jpeg, content_type="image/jpeg")
        return await super()._respond(request, path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Replica:
    """One `rltr-mktg run` process."""

    port: int
    proc: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Cluster:
    """The fakes, the proxy and the replicas."""

    telegram: FakeTelegram
    site: SiteWithPhotos
    graph: FakeGraphApi
    proxy: RoundRobinProxy
    replicas: list[Replica] = field(default_factory=list)

    def sends_to(self, chat_id: int, *methods: str) -> list[Call]:
        """Successful calls of `methods` into one chat."""
        return [
            c
            for c in self.telegram.calls
            if c.method in methods
            and c.status == 200
            and str(c.params.get("chat_id")) == str(chat_id)
        ]

    def logs(self) -> str:
        return "\n".join(f"--- replica {r.port}\n{r.log()[-4000:]}" for r in self.replicas)


def replica_env(
    cluster: Cluster, database_url: str, data_dir: Path, port: int, key: str
) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": cluster.telegram.token,
        "TELEGRAM_API_BASE_URL": cluster.telegram.base_url,
        "TELEGRAM_ADMIN_IDS": str(ADMIN_ID),
        "TELEGRAM_MODE": "webhook",
        "PUBLIC_URL": cluster.proxy.url,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "ENCRYPTION_KEY": key,
        "OPENAI_API_KEY": "",
        "LISTINGS_BASE_URL": cluster.site.base_url,
        "GRAPH_API_BASE_URL": cluster.graph.base_url,
        "PUBLISH_INTERVAL_SECONDS": "1",
        "DEFAULT_TIMEZONE": "UTC",
    }


async def wait_ready(port: int, timeout: float = 60) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)


@asynccontextmanager
async def cluster(
    database_url: str,
    work_dir: Path,
    *,
    replicas: int = 2,
    telegram_latency: float = 0.0,
    flood: FloodLimits | None = None,
    site_homes: bool = True,
) -> AsyncIterator[Cluster]:
    """Start the fakes, the proxy and `replicas` processes; stop them all (SIGTERM) after.

    `telegram_latency` (seconds per Bot API call) stretches delivery rounds so that the
    processes' rounds overlap, as they do under load. `flood`: the fake's flood limits
    (default: off). Without `site_homes` the builder's site lists no homes, so the scrape
    job (first run 20 s after start) writes no drafts of its own."""
    ports = [free_port() for _ in range(replicas)]
    key = generate_key()
    async with (
        FakeTelegram(
            flood=flood or FloodLimits(enabled=False), latency=telegram_latency
        ) as telegram,
        SiteWithPhotos(include_fixtures=site_homes) as site,
        FakeGraphApi() as graph,
        RoundRobinProxy(ports) as proxy,
    ):
        telegram.webhooks.retry_base_s = 0.1
        graph.add_page(PAGE_ID, PAGE_TOKEN, "Sunny Homes")
        c = Cluster(telegram, site, graph, proxy)
        try:
            for i, port in enumerate(ports):
                data_dir = work_dir / f"replica{i}"
                data_dir.mkdir(parents=True, exist_ok=True)
                log_path = data_dir / "stderr.log"
                with log_path.open("wb") as log_file:
                    proc = await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bot",
                        "run",
                        env=replica_env(c, database_url, data_dir, port, key),
                        cwd=data_dir,
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=log_file,
                    )
                c.replicas.append(Replica(port, proc, log_path))
            for r in c.replicas:
                await wait_ready(r.port)
            yield c
        finally:
            await stop_all(c.replicas)


async def stop_all(replicas: Sequence[Replica]) -> None:
    for r in replicas:
        if r.proc.returncode is None:
            r.proc.send_signal(signal.SIGTERM)
    for r in replicas:
        try:
            await asyncio.wait_for(r.proc.wait(), timeout=30)
        except TimeoutError:
            r.proc.kill()
            await r.proc.wait()


def invite_token(text: str) -> str:
    m = re.search(r"\?start=([A-Za-z0-9_-]+)", text)
    assert m, text
    return m.group(1)


def markup_labels(call: Call) -> list[str]:
    """The button labels of a send's inline keyboard."""
    markup: Any = call.params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = (markup or {}).get("inline_keyboard") or []
    return [str(b.get("text", "")) for row in rows for b in row]
