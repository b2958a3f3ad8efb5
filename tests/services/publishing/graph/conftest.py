"""Fixtures: a fake Graph API on 127.0.0.1, a real aiohttp session and a fast GraphClient."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from services.outbound import OutboundClient
from services.publishing import GraphClient
from tests.fakes.graph_api import FakeGraphApi

PAGE_ID = "104857392018374"
PAGE_TOKEN = "EAAGpageTokenForSunnyHomes0123456789abcdefghijklmnop"
IG_ID = "17841400000000001"
IG_TOKEN = "IGAAuserTokenForSunnyHomes0123456789abcdefghijklmnop"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraphApi]:
    async with FakeGraphApi(polls_until_finished=1) as server:
        server.add_page(PAGE_ID, PAGE_TOKEN, "Sunny Homes")
        server.add_ig_user(IG_ID, IG_TOKEN, "sunnyhomes", "Sunny Homes")
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def images(fake: FakeGraphApi) -> AsyncIterator[OutboundClient]:
    """The guarded session for photos; the fake serves them, standing in for the builder."""
    async with OutboundClient(fake.root_url) as guarded:
        yield guarded


@pytest.fixture
def client(session: aiohttp.ClientSession, fake: FakeGraphApi) -> GraphClient:
    return GraphClient(session, fake.base_url, timeout_s=2, max_retries=3, backoff_base_s=0.01)
