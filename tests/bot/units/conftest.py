"""Fixtures: a fake Bot API (flood limits off) and a real PTB ExtBot with HTML defaults."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from tests.fakes.telegram_api import FakeTelegram, FloodLimits


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[ExtBot]:
    defaults = Defaults(parse_mode=ParseMode.HTML)
    async with ExtBot(fake.token, base_url=fake.base_url, defaults=defaults) as client:
        yield client
