"""`rltr-mktg run` as a real process: migrates, polls, answers, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegram, FloodLimits


async def test_run_answers_and_shuts_down_on_sigterm(tmp_path: Path) -> None:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "",
            "OPENAI_API_KEY": "",
            # nothing outside this machine: the builder site and Graph point at closed ports
            "LISTINGS_BASE_URL": "http://127.0.0.1:9",
            "GRAPH_API_BASE_URL": "http://127.0.0.1:9",
            # a free port: other test runs on this machine may hold 8080
            "WEB_PORT": "0",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(30):
                while not fake.calls_to("getUpdates"):
                    await asyncio.sleep(0.05)
            stranger = fake.user(4711, "Sam")
            await stranger.send_command("/start")
            reply = await stranger.next_message(timeout=15)
            assert "ask your administrator for an invite" in reply.content
            assert (tmp_path / "rltr-mktg.db").exists()
            assert (tmp_path / "encryption.key").exists()
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        logs = err.decode()
        assert proc.returncode == 0, logs[-2000:]
        assert "shutting down" in logs
        assert fake.token not in logs
        assert fake.token.split(":")[1] not in logs


async def test_run_without_token_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "", "DATA_DIR": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0]
    assert "Traceback" not in err.decode()


async def _run_once(env: dict[str, str], tmp_path: Path) -> tuple[int | None, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, err.decode()


async def test_run_with_a_refused_token_or_no_server_says_so(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": "111:NotTheTokenTheServerKnowsAbout_xxxxxxxxxxxx",
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATA_DIR": str(tmp_path),
        }
        code, err = await _run_once(env, tmp_path)
    assert code == 2 and "TELEGRAM_BOT_TOKEN was refused" in err, err[-1500:]
    assert "Traceback" not in err
    env["TELEGRAM_API_BASE_URL"] = "http://127.0.0.1:9/bot"
    code, err = await _run_once(env, tmp_path)
    assert code == 2 and "Cannot reach the Telegram Bot API" in err, err[-1500:]
    assert "Traceback" not in err and "NotTheToken" not in err


async def test_a_redirecting_bot_api_never_gets_the_token_printed_or_sent_on(
    tmp_path: Path,
) -> None:
    """The Bot API sends no redirects; one is not followed, so `/bot<token>/` stays put."""
    from aiohttp import web

    token = "7301234567:AAHk3fZ_Qw9xYt2LmNoPqRsTuVwXyZ01234"
    elsewhere_hits: list[str] = []

    async def redirect_to_elsewhere(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://127.0.0.1:{elsewhere_port}{request.path}")

    async def redirect_forever(request: web.Request) -> web.StreamResponse:
        elsewhere_hits.append(request.path)
        raise web.HTTPFound(request.path)

    runners = []
    ports = []
    for handler in (redirect_to_elsewhere, redirect_forever):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        ports.append(runner.addresses[0][1])
    api_port, elsewhere_port = ports
    try:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{api_port}/bot",
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "",
        }
        code, err = await _run_once(env, tmp_path)
    finally:
        for runner in runners:
            await runner.cleanup()
    assert code == 2 and "Cannot reach the Telegram Bot API" in err, err[-1500:]
    assert token.split(":")[1] not in err, err[-1500:]
    assert elsewhere_hits == []


async def test_a_failed_start_closes_every_client(tmp_path: Path) -> None:
    """Refused or unreachable: the one sentence, and no "Unclosed client session" after it."""
    async with FakeTelegram() as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": "111:NotTheTokenTheServerKnowsAbout_xxxxxxxxxxxx",
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "",
            "WEB_PORT": "0",
        }
        refused_code, refused = await _run_once(env, tmp_path)
    env["TELEGRAM_API_BASE_URL"] = "http://127.0.0.1:9/bot"  # a closed port
    closed_code, closed = await _run_once(env, tmp_path)
    assert refused_code == 2 and "TELEGRAM_BOT_TOKEN was refused" in refused, refused[-1500:]
    assert closed_code == 2 and "Cannot reach the Telegram Bot API" in closed, closed[-1500:]
    for err in (refused, closed):
        assert "Unclosed" not in err, err[-1500:]
        assert len(err.strip().splitlines()) == 1, err[-1500:]
