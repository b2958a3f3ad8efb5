"""Whole passes against the fake site: first pass, incremental passes, and bad input."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.scraping.crawl import crawl, needs_fetch
from services.scraping.fetcher import MAX_CRAWL_DELAY_S, FetchCache
from services.scraping.models import CrawlProgress, CrawlResult, SitemapEntry
from tests.fakes.builder_site import HOME_SLUGS, FakeBuilderSite, home_path
from tests.services.scraping.conftest import make_fetcher
from tests.services.scraping.expected_homes import SITEMAP_LASTMODS, expected_homes

OCALA = "5127-sw-88th-place-ocala"
CAPE_CORAL = "918-nw-14th-terrace-cape-coral"


def _known(result: CrawlResult) -> dict[str, datetime | None]:
    return {home.source_id: home.source_lastmod for home in result.homes}


def _home_paths(site: FakeBuilderSite) -> dict[str, int]:
    return {p: n for p, n in site.hits.items() if p.startswith("/new-homes-for-sale/")}


async def test_first_pass_ingests_every_home_with_every_field(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        result = await crawl(fetcher, site.base_url, {})
    expected = expected_homes(site.base_url)
    assert result.sitemap_ok and result.failures == [] and result.warnings == []
    assert [h.source_id for h in result.homes] == list(HOME_SLUGS)  # sitemap order
    for home in result.homes:
        want: dict[str, Any] = dict(expected[home.source_id])
        # The crawl stores the sitemap's lastmod: it is what the next pass compares.
        want["source_lastmod"] = SITEMAP_LASTMODS[home.source_id]
        assert dataclasses.asdict(home) == want, home.source_id
    assert [e.source_id for e in result.entries] == list(HOME_SLUGS)
    assert result.requests_made == 1 + 2 + 7  # robots, index + child sitemap, 7 homes
    assert (result.robots_requests, result.sitemap_requests, result.unchanged) == (1, 2, 0)
    assert result.duration_s > 0
    assert all(n == 1 for n in _home_paths(site).values())


async def test_second_pass_of_an_unchanged_site_costs_only_the_sitemap(
    site: FakeBuilderSite,
) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        first = await crawl(fetcher, site.base_url, {})
        site.reset_counts()
        second = await crawl(fetcher, site.base_url, _known(first))
    assert second.requests_made == 2  # index + child, both answered 304
    assert (second.robots_requests, second.sitemap_requests) == (0, 2)
    assert second.homes == [] and second.failures == [] and second.sitemap_ok
    assert second.unchanged == 7 and len(second.entries) == 7
    assert dict(site.hits) == {"/homes-sitemap.xml": 1, "/homes-sitemap1.xml": 1}


async def test_urlset_second_pass_is_one_request_with_a_shared_cache(
    urlset_site: FakeBuilderSite,
) -> None:
    site = urlset_site
    cache = FetchCache()
    async with make_fetcher(site.base_url, cache=cache) as fetcher:
        first = await crawl(fetcher, site.base_url, {})
    site.reset_counts()
    async with make_fetcher(
        site.base_url, cache=cache
    ) as fetcher:  # a new pass, as the scheduled job makes
        second = await crawl(fetcher, site.base_url, _known(first))
    assert second.requests_made == 1
    assert dict(site.hits) == {"/homes-sitemap.xml": 1}


async def test_without_a_shared_cache_a_new_fetcher_rereads_robots(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        first = await crawl(fetcher, site.base_url, {})
    async with make_fetcher(site.base_url) as fetcher:
        second = await crawl(fetcher, site.base_url, _known(first))
    assert (second.requests_made, second.robots_requests, second.sitemap_requests) == (3, 1, 2)
    assert second.homes == []


async def test_only_changed_homes_are_fetched(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        first = await crawl(fetcher, site.base_url, {})
        site.reset_counts()
        site.set_price(CAPE_CORAL, "$299,990")  # moves its lastmod too
        site.touch(OCALA)
        second = await crawl(fetcher, site.base_url, _known(first))
    assert sorted(h.source_id for h in second.homes) == sorted([CAPE_CORAL, OCALA])
    assert second.requests_made == 2 + 2
    assert _home_paths(site) == {home_path(CAPE_CORAL): 1, home_path(OCALA): 1}
    cape = next(h for h in second.homes if h.source_id == CAPE_CORAL)
    assert cape.price == Decimal("299990")
    assert cape.source_lastmod == datetime(2024, 5, 4, 11, 27, 33, tzinfo=UTC)
    assert second.unchanged == 5


async def test_removed_and_new_homes(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        first = await crawl(fetcher, site.base_url, {})
        site.remove_home(OCALA)
        [new] = site.add_synthetic_homes(1)
        site.reset_counts()
        second = await crawl(fetcher, site.base_url, _known(first))
    assert OCALA not in {e.source_id for e in second.entries}
    assert [h.source_id for h in second.homes] == [new]
    assert second.sitemap_ok and len(second.entries) == 7
    assert _home_paths(site) == {home_path(new): 1}


async def test_sold_out_home_is_reported_as_sold(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        result = await crawl(fetcher, site.base_url, {})
    assert {h.source_id: h.status for h in result.homes}["1482-heron-bay-lane-palm-bay"] == "sold"


def test_needs_fetch_rules() -> None:
    when = datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC)
    entry = SitemapEntry("u", "a", when)
    assert needs_fetch(entry, {})
    assert needs_fetch(entry, {"a": None})
    assert needs_fetch(entry, {"a": datetime(2024, 5, 2, tzinfo=UTC)})
    assert needs_fetch(SitemapEntry("u", "a", None), {"a": when})
    assert not needs_fetch(entry, {"a": when})
    assert not needs_fetch(entry, {"a": when.replace(tzinfo=None)})  # naive from SQLite = UTC


async def test_missing_lastmod_is_always_fetched(site: FakeBuilderSite) -> None:
    site.set_lastmod(OCALA, None)
    async with make_fetcher(site.base_url) as fetcher:
        first = await crawl(fetcher, site.base_url, {})
        site.reset_counts()
        second = await crawl(fetcher, site.base_url, _known(first))
    assert [h.source_id for h in second.homes] == [OCALA]
    assert second.homes[0].source_lastmod == second.homes[0].page_modified


async def test_robots_disallowed_home_is_a_failure_without_a_request(site: FakeBuilderSite) -> None:
    site.set_robots(f"User-agent: *\nDisallow: {home_path(OCALA)}\n")
    async with make_fetcher(site.base_url) as fetcher:
        result = await crawl(fetcher, site.base_url, {})
    assert [(f.url, f.reason) for f in result.failures] == [
        (site.home_url(OCALA), "disallowed by robots.txt")
    ]
    assert len(result.homes) == 6
    assert site.hits[home_path(OCALA)] == 0


BAD_HOME_PAGES = [
    pytest.param({"kind": "status", "status": 404}, "HTTP 404", 1, id="404"),
    pytest.param(
        {"kind": "status", "status": 500}, "HTTP 500 (gave up after 3 attempts)", 3, id="500"
    ),
    pytest.param({"kind": "truncate", "fraction": 0.6}, "truncated", 1, id="truncated-html"),
    pytest.param({"kind": "disconnect"}, "gave up after 3 attempts", 3, id="dropped-connection"),
    pytest.param({"kind": "enormous"}, "larger than the 5.0 MB cap", 1, id="enormous"),
    pytest.param({"kind": "redirect_loop"}, "redirect loop", 1, id="redirect-loop"),
]


@pytest.mark.parametrize(("fault", "reason", "hits"), BAD_HOME_PAGES)
async def test_bad_home_page_is_counted_logged_once_and_harms_nothing(
    site: FakeBuilderSite,
    caplog: pytest.LogCaptureFixture,
    fault: dict[str, Any],
    reason: str,
    hits: int,
) -> None:
    site.fail(home_path(OCALA), **fault)
    url = site.home_url(OCALA)
    with caplog.at_level(logging.DEBUG, logger="services.scraping"):
        async with make_fetcher(site.base_url) as fetcher:
            result = await crawl(fetcher, site.base_url, {})
    assert len(result.failures) == 1
    assert result.failures[0].url == url and reason in result.failures[0].reason
    assert result.failures[0].status == fault.get("status")
    assert sorted(h.source_id for h in result.homes) == sorted(set(HOME_SLUGS) - {OCALA})
    assert result.sitemap_ok and len(result.entries) == 7
    assert site.hits[home_path(OCALA)] == hits
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and url in warnings[0].getMessage()


async def test_page_that_is_not_a_home_is_counted(
    site: FakeBuilderSite, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.fakes.builder_site import _read

    site.add_home("a-page-that-moved", _read("not-found.html"), "2024-05-05T00:00:00+00:00")
    with caplog.at_level(logging.WARNING, logger="services.scraping"):
        async with make_fetcher(site.base_url) as fetcher:
            result = await crawl(fetcher, site.base_url, {})
    [failure] = result.failures
    assert failure.url == site.home_url("a-page-that-moved")
    assert failure.reason == "not understood: no address and no home facts: not a home page"
    assert len(result.homes) == 7
    assert len(caplog.records) == 1


async def test_non_utf8_page_is_ingested_with_a_counted_warning(
    site: FakeBuilderSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.fail(home_path(CAPE_CORAL), "non_utf8")
    with caplog.at_level(logging.WARNING, logger="services.scraping"):
        async with make_fetcher(site.base_url) as fetcher:
            result = await crawl(fetcher, site.base_url, {})
    assert result.failures == [] and len(result.homes) == 7
    [warning] = result.warnings
    assert warning.url == site.home_url(CAPE_CORAL)
    assert "not valid utf-8" in warning.reason
    cape = next(h for h in result.homes if h.source_id == CAPE_CORAL)
    assert cape.plan_description == expected_homes(site.base_url)[CAPE_CORAL]["plan_description"]
    assert len(caplog.records) == 1 and site.home_url(CAPE_CORAL) in caplog.records[0].getMessage()


async def test_call_for_pricing_is_no_price_and_no_failure(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        result = await crawl(fetcher, site.base_url, {})
    amelia = next(h for h in result.homes if h.source_id == "2214-amelia-bluff-court-jacksonville")
    assert amelia.price is None and result.failures == []


@pytest.mark.parametrize(
    ("path", "fault", "reason"),
    [
        ("/homes-sitemap.xml", {"kind": "not_xml"}, "sitemap unusable: XML but not a sitemap"),
        ("/homes-sitemap.xml", {"kind": "truncate"}, "sitemap unusable: not valid XML"),
        ("/homes-sitemap.xml", {"kind": "status", "status": 500}, "sitemap unusable: HTTP 500"),
        ("/homes-sitemap1.xml", {"kind": "status", "status": 404}, "sitemap unusable: HTTP 404"),
        ("/homes-sitemap1.xml", {"kind": "redirect_loop"}, "sitemap unusable: redirect loop"),
    ],
)
async def test_failed_sitemap_is_reported_and_no_home_is_touched(
    site: FakeBuilderSite,
    caplog: pytest.LogCaptureFixture,
    path: str,
    fault: dict[str, Any],
    reason: str,
) -> None:
    site.fail(path, **fault)
    with caplog.at_level(logging.WARNING, logger="services.scraping"):
        async with make_fetcher(site.base_url) as fetcher:
            result = await crawl(fetcher, site.base_url, {})
    assert not result.sitemap_ok
    assert result.entries == [] and result.homes == []
    [failure] = result.failures
    assert failure.url == f"{site.base_url}{path}" and failure.reason.startswith(reason)
    assert _home_paths(site) == {}
    assert len(caplog.records) == 1 and failure.url in caplog.records[0].getMessage()


async def test_sitemap_429_with_retry_after_still_completes(site: FakeBuilderSite) -> None:
    site.fail("/homes-sitemap.xml", "status", status=429, retry_after="1", times=1)
    async with make_fetcher(site.base_url) as fetcher:
        result = await crawl(fetcher, site.base_url, {})
    assert result.sitemap_ok and len(result.homes) == 7
    assert result.duration_s >= 0.95
    assert result.requests_made == 1 + 2 + 1 + 7  # robots, 429 + 200 index, child, homes
    assert result.sitemap_requests == 3


async def test_progress_callbacks_sync_and_async(site: FakeBuilderSite) -> None:
    seen: list[CrawlProgress] = []

    async def on_progress(progress: CrawlProgress) -> None:
        seen.append(progress)

    async with make_fetcher(site.base_url) as fetcher:
        await crawl(fetcher, site.base_url, {}, progress=on_progress)
        first_run = list(seen)
        seen.clear()
        await crawl(fetcher, site.base_url, {}, progress=seen.append)
    for run in (first_run, seen):
        assert run[0] == CrawlProgress(0, 1, "sitemap")
        assert run[1] == CrawlProgress(1, 1, "sitemap")
        homes = [p for p in run if p.phase == "homes"]
        assert [p.done for p in homes] == list(range(8))
        assert all(p.total == 7 for p in homes)
        assert run[-1] == CrawlProgress(7, 7, "done")


async def test_a_failing_progress_callback_does_not_stop_the_pass(
    site: FakeBuilderSite, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(progress: CrawlProgress) -> None:
        raise RuntimeError("telegram is down")

    with caplog.at_level(logging.WARNING, logger="services.scraping"):
        async with make_fetcher(site.base_url) as fetcher:
            result = await crawl(fetcher, site.base_url, {}, progress=broken)
    assert len(result.homes) == 7
    assert len(caplog.records) == 1  # said once, not once per home


async def test_crawl_keeps_to_the_fetchers_concurrency() -> None:
    async with FakeBuilderSite(latency=0.02) as site:
        site.add_synthetic_homes(30)
        async with make_fetcher(site.base_url, concurrency=3) as fetcher:
            result = await crawl(fetcher, site.base_url, {})
    assert len(result.homes) == 37
    assert 2 <= site.max_in_flight <= 3


async def test_a_pass_stops_at_its_deadline_with_what_it_fetched(site: FakeBuilderSite) -> None:
    slow = ["5127-sw-88th-place-ocala", "918-nw-14th-terrace-cape-coral"]
    for slug in slow:
        site.fail(home_path(slug), "slow", delay=30.0)
    async with make_fetcher(site.base_url) as fetcher:
        started = time.monotonic()
        result = await crawl(fetcher, site.base_url, {}, deadline_s=1.5)
        assert time.monotonic() - started < 5
    assert result.deadline_reached and result.sitemap_ok
    assert (result.fetched, result.to_fetch, len(result.entries)) == (5, 7, 7)
    assert sorted(h.source_id for h in result.homes) == sorted(set(HOME_SLUGS) - set(slow))
    assert result.failures == []  # not reached is not failed


async def test_a_deadline_during_the_sitemap_fetches_no_home(site: FakeBuilderSite) -> None:
    site.fail("/homes-sitemap1.xml", "slow", delay=30.0)
    async with make_fetcher(site.base_url) as fetcher:
        result = await crawl(fetcher, site.base_url, {}, deadline_s=1.0)
    assert result.deadline_reached and not result.sitemap_ok
    assert result.entries == [] and result.homes == [] and result.fetched == 0
    assert [f.reason for f in result.failures] == [
        "the pass reached its deadline while reading the sitemap"
    ]
    assert not any(path.startswith("/new-homes-for-sale/") for path in site.hits)


async def test_an_endless_crawl_delay_is_capped_and_the_pass_ends(
    urlset_site: FakeBuilderSite,
) -> None:
    # One robots.txt line used to stop scraping for good: every later pass was skipped
    # as "already running" behind a pass waiting a day between requests.
    site = urlset_site
    site.set_robots("User-agent: *\nCrawl-delay: 86400\n")
    async with make_fetcher(site.base_url) as fetcher:
        result = await asyncio.wait_for(crawl(fetcher, site.base_url, {}, deadline_s=1.5), 10)
        assert fetcher.crawl_interval_s == MAX_CRAWL_DELAY_S == 30.0
    # robots.txt and the sitemap at once, then the first home 30 s later: past the deadline
    assert result.deadline_reached and result.sitemap_ok
    assert (result.fetched, result.to_fetch) == (0, 7)
