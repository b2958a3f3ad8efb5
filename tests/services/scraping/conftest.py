"""Fixtures for the scraping tests: a fresh fake builder site and fast, polite fetchers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.scraping.fetcher import PoliteFetcher
from tests.fakes.builder_site import FakeBuilderSite


def make_fetcher(site_url: str, **options: Any) -> PoliteFetcher:
    """A fetcher for `site_url` with no politeness delay and tiny back-off, so tests stay fast."""
    defaults: dict[str, Any] = {"delay_s": 0.0, "backoff_base_s": 0.01, "max_attempts": 3}
    defaults.update(options)
    return PoliteFetcher(site_url, **defaults)


@pytest.fixture
async def site() -> AsyncIterator[FakeBuilderSite]:
    async with FakeBuilderSite() as fake:
        yield fake


@pytest.fixture
async def urlset_site() -> AsyncIterator[FakeBuilderSite]:
    async with FakeBuilderSite(sitemap_mode="urlset") as fake:
        yield fake
