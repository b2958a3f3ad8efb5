"""The jobs in the running bot: start-up recovery, publishing rounds, notifications on the phone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.app import build_application, start_application, stop_application
from bot.app_type import App
from bot.runtime import RUNTIME_KEY, Runtime
from db.base import utcnow
from db.models import Agent, PostSchedule
from services.context import Database
from services.publishing.post_outcomes import OUTCOME_UNKNOWN
from services.settings import load_settings
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.telegram_api import FakeTelegram, FloodLimits
from tests.services.publishing.conftest import PAGE_ID, piece_of, rows_of, seed_post


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as fake:
        yield fake


async def _start(database: Database, telegram: FakeTelegram, graph_url: str, tmp_path: Path) -> App:
    settings = load_settings(
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        graph_api_base_url=graph_url,
        listings_base_url=graph_url,  # the fake Graph serves the photos, as the builder's site does
        publish_interval_seconds=1,
        data_dir=tmp_path,
        default_timezone="UTC",
        _env_file=None,
    )
    app = build_application(settings, database=database, with_jobs=True)
    await start_application(app)
    return app


async def test_jobs_recover_then_publish_and_tell_the_agent(
    database: Database, fake: FakeGraphApi, telegram: FakeTelegram, tmp_path: Path
) -> None:
    now = utcnow()
    crashed = await seed_post(database, fake, platforms=["facebook"], at=now)
    async with database.unit_of_work() as s:
        # Left `sent` by a process killed 20 minutes ago.
        await s.execute(
            update(PostSchedule)
            .where(PostSchedule.id == crashed.schedule_ids[0])
            .values(status="sent", claimed_at=now - timedelta(minutes=20), attempts=1)
        )
    due = await seed_post(database, fake, platforms=["facebook"], at=now)
    async with database.unit_of_work() as s:
        agent = await s.get(Agent, due.agent_id)
        other = await s.get(Agent, crashed.agent_id)
        assert agent is not None and other is not None
    phone = telegram.user(agent.telegram_user_id or 0)
    other_phone = telegram.user(other.telegram_user_id or 0)

    app = await _start(database, telegram, fake.base_url, tmp_path)
    try:
        names = {job.name for job in app.job_queue.jobs()} if app.job_queue else set()
        assert {"publish", "token-expiry"} <= names
        live = await phone.wait_message(lambda m: "is live on Facebook" in m.content, timeout=15)
        assert fake.visible_posts(PAGE_ID)[0].permalink in live.content
        failed = await other_phone.wait_message(lambda m: "may or may not" in m.content, timeout=15)
        assert OUTCOME_UNKNOWN in failed.content and any("Retry" in b for b in failed.button_labels)
        rt = app.bot_data[RUNTIME_KEY]
        assert isinstance(rt, Runtime) and rt.graph is not None
        session = rt.graph.session
    finally:
        await stop_application(app)
    assert session.closed and rt.graph is None
    [row] = await rows_of(database, crashed.piece_id)
    assert row.status == "failed" and row.error_message == OUTCOME_UNKNOWN
    assert (await piece_of(database, crashed.piece_id)).status == "posting_failed"
    assert (await piece_of(database, due.piece_id)).status == "posted_successfully"
    # The crashed post was never sent again.
    assert len(fake.visible_posts(PAGE_ID)) == 1
