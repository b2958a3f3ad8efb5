"""Fixtures: a fresh fake Bot API per test, and a real PTB Application polling it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
from telegram.constants import ParseMode
from telegram.ext import Application, Defaults

from tests.fakes.telegram_api import FakeTelegram, FloodLimits


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as server:
        yield server


@pytest.fixture
async def limited_fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def polling() -> Callable[..., contextlib.AbstractAsyncContextManager[Application]]:
    """``async with polling(fake, setup) as app`` runs a real Application with long polling."""

    @contextlib.asynccontextmanager
    async def run(
        server: FakeTelegram,
        setup: Callable[[Application], None] | None = None,
        **builder_options: object,
    ) -> AsyncIterator[Application]:
        builder = server.application_builder().defaults(Defaults(parse_mode=ParseMode.HTML))
        for name, value in builder_options.items():
            builder = getattr(builder, name)(value)
        app = builder.build()
        if setup is not None:
            setup(app)
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=5)
            try:
                yield app
            finally:
                await app.updater.stop()
                await app.stop()

    return run
