"""The real PTB Application against the fake Bot API, on each database backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, start_application, stop_application
from bot.app_type import App
from bot.runtime import RUNTIME_KEY, Runtime
from services.context import Database
from services.notifying import delivery
from services.settings import Settings, load_settings
from tests.fakes.telegram_api import FakeTelegram, FloodLimits

ADMIN_ID = 900_001


@dataclass
class BotHarness:
    """A running bot, its fake Telegram and its database."""

    fake: FakeTelegram
    app: App
    database: Database
    settings: Settings

    @property
    def runtime(self) -> Runtime:
        value = self.app.bot_data[RUNTIME_KEY]
        assert isinstance(value, Runtime)
        return value

    async def deliver(self) -> delivery.DeliveryStats:
        """Run one delivery round now (what the deliver job does every few seconds)."""
        return await delivery.deliver_drafts(
            self.database, self.runtime.notifier, default_timezone="UTC"
        )


@asynccontextmanager
async def running_bot(
    database: Database, tmp_path: Path, **settings_values: Any
) -> AsyncIterator[BotHarness]:
    """The real bot (no jobs scheduled) on `database`, talking to a fresh fake Telegram."""
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as fake:
        settings = load_settings(
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            telegram_admin_ids=str(ADMIN_ID),
            data_dir=tmp_path,
            default_timezone="UTC",
            _env_file=None,
            **settings_values,
        )
        app = build_application(settings, database=database, with_jobs=False)
        await start_application(app)
        try:
            yield BotHarness(fake=fake, app=app, database=database, settings=settings)
        finally:
            await stop_application(app)


@pytest.fixture
async def harness(database: Database, tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(database, tmp_path) as h:
        yield h
