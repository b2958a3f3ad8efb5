"""`rltr-mktg run` as a real process in webhook mode: the web server comes up with the bot,
answers /healthz and /readyz, receives the updates, and everything stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from services.settings import load_settings
from tests.fakes.telegram_api import FakeTelegram, FloodLimits


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_run_serves_health_and_webhook_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_MODE": "webhook",
            "WEB_PORT": str(port),
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "",
            "OPENAI_API_KEY": "",
            "LISTINGS_BASE_URL": "http://127.0.0.1:9",
            "GRAPH_API_BASE_URL": "http://127.0.0.1:9",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--log-level",
            "DEBUG",  # PTB logs each call's parameters at DEBUG: the secret must stay out
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            await fake.wait_for(lambda: fake.webhooks.webhook, timeout=30, what="setWebhook")
            hook = fake.webhooks.webhook
            assert hook is not None and hook.url == f"{base}/telegram/webhook"
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/healthz") as resp:
                    assert resp.status == 200 and await resp.json() == {"status": "ok"}
                async with http.get(f"{base}/readyz") as resp:
                    assert resp.status == 200, await resp.text()
                async with http.get(f"{base}/metrics") as resp:
                    assert resp.status == 200
                    assert "# TYPE rltr_mktg_taps_total counter" in await resp.text()
            sam = fake.user(4711, "Sam")
            await sam.send_command("/start")
            reply = await sam.next_message(timeout=15)
            assert "ask your administrator for an invite" in reply.content
            assert fake.calls_to("getUpdates") == []
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        logs = err.decode()
        assert proc.returncode == 0, logs[-2000:]
        assert "web server listening" in logs and "shutting down" in logs
        secret = load_settings(telegram_bot_token=fake.token, _env_file=None).webhook_secret()
        assert secret == hook.secret_token
        assert secret not in logs and fake.token.split(":")[1] not in logs
