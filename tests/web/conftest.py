"""A test client for a web application built by web/app.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def client_for() -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[Client]]:
    """``async with client_for(app) as client`` serves `app` on a free port."""

    @contextlib.asynccontextmanager
    async def run(app: web.Application) -> AsyncIterator[Client]:
        async with TestClient(TestServer(app)) as client:
            yield client

    return run
