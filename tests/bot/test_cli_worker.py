"""`rltr-mktg worker` as a real process, and who may run next to whom.

A worker runs the jobs and the web side and never asks Telegram for updates; SQLite
serves one long-running process; on PostgreSQL one process polls.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from db.sqlite_lock import DatabaseInUse, single_process
from services.process_roles import ANOTHER_POLLER, process_role
from services.settings import ConfigError
from tests.fakes.telegram_api import FakeTelegram, FloodLimits


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(fake: FakeTelegram, tmp_path: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "OPENAI_API_KEY": "",
        "LISTINGS_BASE_URL": "http://127.0.0.1:9",
        "GRAPH_API_BASE_URL": "http://127.0.0.1:9",
        "WEB_PORT": str(port),
    }


async def _cli(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _ready(port: int) -> dict[str, object]:
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(30):
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        if resp.status == 200:
                            body: dict[str, object] = await resp.json()
                            return body
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)


async def test_worker_runs_jobs_and_web_without_taking_updates_and_sqlite_admits_one(
    tmp_path: Path,
) -> None:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as fake:
        port = free_port()
        worker = await _cli(_env(fake, tmp_path, port), tmp_path, "worker")
        try:
            assert (await _ready(port))["status"] == "ready"
            # A second long-running process on the same SQLite file says why it stops.
            second = await _cli(_env(fake, tmp_path, free_port()), tmp_path, "run")
            _, err = await asyncio.wait_for(second.communicate(), timeout=60)
            assert second.returncode == 2
            lines = err.decode().strip().splitlines()
            assert len(lines) == 1, lines
            assert "Another rltr-mktg process is already running" in lines[0]
            assert "PostgreSQL" in lines[0]
        finally:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
            _, werr = await asyncio.wait_for(worker.communicate(), timeout=30)
        assert worker.returncode == 0, werr.decode()[-2000:]
        assert fake.calls_to("getMe")
        for method in ("getUpdates", "setWebhook", "deleteWebhook"):
            assert fake.calls_to(method) == [], method
        assert "running mode=worker" in werr.decode()


def test_the_sqlite_lock_is_one_holder_at_a_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"
    with single_process(url):
        with pytest.raises(DatabaseInUse) as raised, single_process(url):
            pass
        assert str(tmp_path / "one.db") in str(raised.value)
    with single_process(url):  # released when the holder ends
        pass


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_one_poller_per_postgresql_database_any_number_of_workers(
    migrated_url: str,
) -> None:
    async with process_role(migrated_url, polling=True):
        with pytest.raises(ConfigError) as raised:
            async with process_role(migrated_url, polling=True):
                pass
        assert str(raised.value) == ANOTHER_POLLER
        async with process_role(migrated_url, polling=False):  # a worker, or a webhook replica
            pass
    async with process_role(migrated_url, polling=True):
        pass
