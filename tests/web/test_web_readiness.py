"""/readyz with the real bot's probes (rltr_mktg/process.py), and the shutdown order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import build_application, start_application, stop_application
from bot.jobs.job_metrics import metered
from bot.readiness import jobs_probe
from db.session import create_engine, create_sessionmaker
from rltr_mktg.process import readiness_probes, serve, web_server
from services import metrics
from services.context import Database
from services.crypto import TokenCipher
from services.readiness import database_problem
from services.settings import Settings, load_settings
from tests.fakes.telegram_api import FakeTelegram, FloodLimits
from web.app import build_web_app
from web.server import WebServer


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as server:
        yield server


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `check` (for changes that fire no signal of the fake's) until it holds."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def _settings(fake: FakeTelegram, tmp_path: Path) -> Settings:
    return load_settings(
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        data_dir=tmp_path,
        default_timezone="UTC",
        # nothing outside this machine: the builder site and Graph point at closed ports
        listings_base_url="http://127.0.0.1:9",
        graph_api_base_url="http://127.0.0.1:9",
        web_port=0,
        _env_file=None,
    )


def _unreachable(backend: str, tmp_path: Path, cipher: TokenCipher) -> Database:
    url = (
        "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"  # nothing listens on port 9
        if backend == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path / 'missing-folder' / 'x.db'}"
    )
    engine = create_engine(url)
    return Database(engine=engine, sessionmaker=create_sessionmaker(engine), cipher=cipher)


def _value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_readyz_follows_the_bot_from_start_to_stop(
    fake: FakeTelegram, database: Database, tmp_path: Path, client_for
) -> None:
    app = build_application(_settings(fake, tmp_path), database=database)
    deliver_runs = _value("rltr_mktg_job_runs_total", job="deliver")
    assert deliver_runs == _value("rltr_mktg_job_duration_seconds_count", job="deliver")
    async with client_for(build_web_app(probes=readiness_probes(app))) as client:
        resp = await client.get("/readyz")
        assert resp.status == 503
        assert set((await resp.json())["failing"]) == {"database", "bot", "jobs"}

        await start_application(app)
        try:
            resp = await client.get("/readyz")
            assert resp.status == 200, await resp.text()

            # Every scheduled job runs under the metrics wrapper (deliver starts after 1 s).
            await eventually(
                lambda: _value("rltr_mktg_job_duration_seconds_count", job="deliver") > deliver_runs
            )
            assert _value("rltr_mktg_job_runs_total", job="deliver") > deliver_runs

            assert app.job_queue is not None
            app.job_queue.scheduler.pause()
            resp = await client.get("/readyz")
            assert resp.status == 503
            assert (await resp.json())["failing"] == {"jobs": "the job scheduler is paused"}
            app.job_queue.scheduler.resume()
            assert (await client.get("/readyz")).status == 200

            # A scheduler that stopped firing leaves its jobs' next run times behind.
            later = jobs_probe(app, clock=lambda: datetime.now(UTC) + timedelta(hours=2))
            late = await later() or ""
            assert "deliver is" in late and "publish is" in late and "overdue" in late
            assert "token-expiry" not in late  # a daily job is not late after two hours
            assert await jobs_probe(app)() is None
        finally:
            await stop_application(app)
        resp = await client.get("/readyz")
        assert resp.status == 503
        failing = (await resp.json())["failing"]
        assert failing["bot"] == "the bot is not running"
        assert failing["jobs"] == "the job scheduler is not running"


async def test_readyz_names_the_database_when_it_does_not_answer(
    backend: str, fake: FakeTelegram, tmp_path: Path, cipher: TokenCipher, client_for
) -> None:
    down = _unreachable(backend, tmp_path, cipher)
    reason = await database_problem(down)
    assert reason is not None and reason.startswith("cannot reach the database (")
    app = build_application(_settings(fake, tmp_path), database=down, with_jobs=False)
    await start_application(app)
    try:
        async with client_for(build_web_app(probes=readiness_probes(app))) as client:
            resp = await client.get("/readyz")
            assert resp.status == 503
            failing = (await resp.json())["failing"]
        assert failing["database"] == reason
        assert "bot" not in failing
    finally:
        await stop_application(app)
        await down.engine.dispose()


async def test_database_probe_passes_on_the_test_database(database: Database) -> None:
    assert await database_problem(database) is None


async def test_a_failing_job_counts_as_a_failure(
    fake: FakeTelegram, database: Database, tmp_path: Path
) -> None:
    app = build_application(_settings(fake, tmp_path), database=database, with_jobs=False)
    ran = asyncio.Event()

    async def broken(context: object) -> None:
        ran.set()
        raise RuntimeError("job broke")

    before = _value("rltr_mktg_job_failures_total", job="broken")
    await start_application(app)
    try:
        assert app.job_queue is not None
        app.job_queue.run_once(metered(broken), when=0.01, name="broken")
        await asyncio.wait_for(ran.wait(), 5)
        await asyncio.sleep(0.05)
        assert _value("rltr_mktg_job_failures_total", job="broken") == before + 1
        assert _value("rltr_mktg_job_runs_total", job="broken") >= 1
    finally:
        await stop_application(app)


async def test_shutdown_finishes_requests_in_flight_before_the_bot_stops(
    fake: FakeTelegram, database: Database, tmp_path: Path
) -> None:
    """SIGTERM during a request: the request completes while the bot still runs; then the
    bot, its jobs and the database client stop."""
    settings = _settings(fake, tmp_path)
    app = build_application(settings, database=database)
    seen: dict[str, bool] = {}
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(0.5)
        assert app.job_queue is not None and app.updater is not None
        seen.update(
            bot=app.running, polling=app.updater.running, jobs=app.job_queue.scheduler.running
        )
        return web.Response(text="finished")

    server = web_server(settings, app)
    server._runner.app.router.add_get("/slow", slow)
    stop = asyncio.Event()
    process = asyncio.create_task(serve(settings, app, server, stop))
    await eventually(lambda: bool(fake.calls_to("getUpdates")))
    async with aiohttp.ClientSession() as http:
        request = asyncio.create_task(http.get(f"http://127.0.0.1:{server.port}/slow"))
        await started.wait()
        stop.set()  # what SIGTERM does
        await asyncio.sleep(0.1)
        # New requests are refused at once, while the bot still runs...
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as other:
                await other.get(f"http://127.0.0.1:{server.port}/healthz")
        assert app.running
        # ...and the one in flight finishes.
        resp = await request
        assert resp.status == 200 and await resp.text() == "finished"
    await asyncio.wait_for(process, 30)
    assert seen == {"bot": True, "polling": True, "jobs": True}
    assert not app.running and app.updater is not None and not app.updater.running
    # post_shutdown ran after that: the writer's client is closed and gone.
    assert app.bot_data["runtime"].writer is None


async def test_a_busy_port_is_one_sentence(fake: FakeTelegram, tmp_path: Path) -> None:
    from services.settings import ConfigError

    blocker = WebServer(build_web_app(probes={}), "127.0.0.1", 0)
    await blocker.start()
    try:
        settings = load_settings(
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            data_dir=tmp_path,
            web_port=blocker.port,
            _env_file=None,
        )
        app = build_application(settings, with_jobs=False)
        with pytest.raises(ConfigError, match=r"WEB_HOST/WEB_PORT: cannot listen on 127\.0\.0\.1"):
            await serve(settings, app, web_server(settings, app), asyncio.Event())
    finally:
        await blocker.stop()
