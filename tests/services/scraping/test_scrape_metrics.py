"""Scraping shows in the metrics: every request sent, and every page that failed for good."""

from __future__ import annotations

import pytest

from services import metrics
from services.scraping.fetcher import HttpStatusError
from tests.fakes.builder_site import FakeBuilderSite, home_path
from tests.services.scraping.conftest import make_fetcher

OCALA = "5127-sw-88th-place-ocala"


def _value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_requests_and_failures_are_counted(site: FakeBuilderSite) -> None:
    requests = _value("rltr_mktg_scrape_requests_total")
    failures = _value("rltr_mktg_scrape_failures_total", kind="http_status")
    site.fail(home_path(OCALA), "status", status=404)
    async with make_fetcher(site.base_url) as fetcher:
        assert (await fetcher.fetch(f"{site.base_url}/homes-sitemap.xml")).status == 200
        with pytest.raises(HttpStatusError):
            await fetcher.fetch(site.home_url(OCALA))
        sent = fetcher.requests_made
    assert sent >= 3  # robots.txt, the sitemap, the missing home
    assert _value("rltr_mktg_scrape_requests_total") == requests + sent
    assert _value("rltr_mktg_scrape_failures_total", kind="http_status") == failures + 1
