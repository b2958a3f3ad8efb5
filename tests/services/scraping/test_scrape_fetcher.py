"""The polite fetcher against the fake site: robots, back-off, caps, redirects, 304s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from services.scraping.crawl import crawl
from services.scraping.fetcher import (
    DEFAULT_USER_AGENT,
    MAX_CRAWL_DELAY_S,
    FetchCache,
    HttpStatusError,
    NetworkError,
    PoliteFetcher,
    RedirectError,
    RefusedError,
    RobotsDisallowedError,
    TooLargeError,
    parse_retry_after,
)
from tests.fakes.builder_site import FakeBuilderSite, home_path
from tests.fakes.tripwire import FakeDns, Tripwire
from tests.services.scraping.conftest import make_fetcher

OCALA = "5127-sw-88th-place-ocala"


async def test_user_agent_and_one_robots_read_per_session(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        await asyncio.gather(*(fetcher.fetch(site.home_url(OCALA)) for _ in range(5)))
        assert fetcher.requests_made == 6
        assert fetcher.robots_requests == 1
    assert site.hits["/robots.txt"] == 1
    assert site.hits[home_path(OCALA)] == 5
    assert {r.headers["User-Agent"] for r in site.requests} == {DEFAULT_USER_AGENT}
    assert DEFAULT_USER_AGENT.startswith("rltr-mktg/")


async def test_robots_disallow_is_honoured_without_a_request(site: FakeBuilderSite) -> None:
    site.set_robots(f"User-agent: *\nDisallow: {home_path(OCALA)}\n")
    async with make_fetcher(site.base_url) as fetcher:
        with pytest.raises(RobotsDisallowedError, match=r"disallowed by robots\.txt"):
            await fetcher.fetch(site.home_url(OCALA))
        assert not await fetcher.allowed(site.home_url(OCALA))
        other = "918-nw-14th-terrace-cape-coral"
        assert (await fetcher.fetch(site.home_url(other))).status == 200
    assert site.hits[home_path(OCALA)] == 0


async def test_robots_group_for_our_agent(site: FakeBuilderSite) -> None:
    site.set_robots("User-agent: rltr-mktg\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    async with make_fetcher(site.base_url) as fetcher:
        with pytest.raises(RobotsDisallowedError):
            await fetcher.fetch(f"{site.base_url}/homes-sitemap.xml")
    async with make_fetcher(site.base_url, user_agent="SomeoneElse/1.0") as fetcher:
        assert (await fetcher.fetch(f"{site.base_url}/homes-sitemap.xml")).status == 200


async def test_missing_robots_means_allowed(site: FakeBuilderSite) -> None:
    site.set_robots(None)
    async with make_fetcher(site.base_url) as fetcher:
        assert (await fetcher.fetch(site.home_url(OCALA))).status == 200
    assert site.hits["/robots.txt"] == 1


async def test_unreachable_robots_means_nothing_is_fetched(site: FakeBuilderSite) -> None:
    site.fail("/robots.txt", "status", status=503)
    async with make_fetcher(site.base_url) as fetcher:
        with pytest.raises(RobotsDisallowedError, match="could not be read"):
            await fetcher.fetch(site.home_url(OCALA))
    assert site.hits[home_path(OCALA)] == 0
    assert site.hits["/robots.txt"] == 3  # retried like any 5xx


async def test_robots_cache_is_shared_between_fetchers(site: FakeBuilderSite) -> None:
    cache = FetchCache()
    for _ in range(3):
        async with make_fetcher(site.base_url, cache=cache) as fetcher:
            await fetcher.fetch(site.home_url(OCALA))
    assert site.hits["/robots.txt"] == 1
    expired = FetchCache(robots_ttl_s=0.0)
    for _ in range(2):
        async with make_fetcher(site.base_url, cache=expired) as fetcher:
            await fetcher.fetch(site.home_url(OCALA))
    assert site.hits["/robots.txt"] == 3


async def test_crawl_delay_spaces_requests(site: FakeBuilderSite) -> None:
    site.set_robots("User-agent: *\nCrawl-delay: 1\n")  # the stdlib parser reads whole seconds
    async with make_fetcher(site.base_url, concurrency=4) as fetcher:
        assert await fetcher.allowed(site.home_url(OCALA))
        started = time.monotonic()
        await asyncio.gather(*(fetcher.fetch(site.home_url(OCALA)) for _ in range(2)))
        assert time.monotonic() - started >= 0.95  # two starts, one second apart


async def test_a_huge_crawl_delay_is_capped(site: FakeBuilderSite) -> None:
    site.set_robots("User-agent: *\nCrawl-delay: 86400\n")
    async with make_fetcher(site.base_url) as fetcher:
        assert await fetcher.allowed(site.home_url(OCALA))
        assert fetcher.crawl_interval_s == MAX_CRAWL_DELAY_S == 30.0
    async with make_fetcher(site.base_url, max_crawl_delay_s=0.5) as fetcher:
        assert await fetcher.allowed(site.home_url(OCALA))
        started = time.monotonic()
        await asyncio.wait_for(
            asyncio.gather(*(fetcher.fetch(site.home_url(OCALA)) for _ in range(2))), 5
        )
        assert 0.45 <= time.monotonic() - started < 3  # two starts, the capped delay apart


async def test_429_retry_after_is_honoured(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "status", status=429, retry_after="1", times=1)
    async with make_fetcher(site.base_url) as fetcher:
        started = time.monotonic()
        result = await fetcher.fetch(site.home_url(OCALA))
        elapsed = time.monotonic() - started
        assert fetcher.requests_made == 3  # robots + 429 + 200
    assert result.status == 200
    assert elapsed >= 0.95
    assert site.hits[home_path(OCALA)] == 2


async def test_retry_after_pauses_every_request(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "status", status=503, retry_after="1", times=1)
    other = site.home_url("918-nw-14th-terrace-cape-coral")
    async with make_fetcher(site.base_url) as fetcher:
        await fetcher.fetch(f"{site.base_url}/homes-sitemap.xml")  # robots read first
        first = asyncio.create_task(fetcher.fetch(site.home_url(OCALA)))
        while site.hits[home_path(OCALA)] == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # let the client read the 503
        started = time.monotonic()
        await fetcher.fetch(other)
        assert time.monotonic() - started >= 0.5
        assert (await first).status == 200


async def test_retry_after_longer_than_the_cap_fails_fast(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "status", status=429, retry_after="3600")
    async with make_fetcher(site.base_url, max_retry_after_s=5) as fetcher:
        started = time.monotonic()
        with pytest.raises(HttpStatusError, match="asked to wait 3600 s") as caught:
            await fetcher.fetch(site.home_url(OCALA))
        assert time.monotonic() - started < 1
    assert caught.value.status == 429
    assert site.hits[home_path(OCALA)] == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_in_the_future() -> None:
    got = parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0)  # 07:28:00
    assert got == pytest.approx(30.0)


async def test_5xx_is_retried_with_backoff_then_succeeds(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "status", status=500, times=2)
    async with make_fetcher(site.base_url, max_attempts=3) as fetcher:
        assert (await fetcher.fetch(site.home_url(OCALA))).status == 200
    assert site.hits[home_path(OCALA)] == 3


async def test_5xx_gives_up_after_max_attempts(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "status", status=500)
    async with make_fetcher(site.base_url, max_attempts=3) as fetcher:
        with pytest.raises(
            HttpStatusError, match=r"HTTP 500 \(gave up after 3 attempts\)"
        ) as caught:
            await fetcher.fetch(site.home_url(OCALA))
    assert caught.value.status == 500
    assert site.hits[home_path(OCALA)] == 3


async def test_404_is_not_retried(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        with pytest.raises(HttpStatusError, match="HTTP 404") as caught:
            await fetcher.fetch(site.home_url("no-such-home"))
    assert caught.value.status == 404
    assert site.hits[home_path("no-such-home")] == 1


async def test_enormous_page_is_cut_off(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "enormous", size=8 * 1024 * 1024)
    async with make_fetcher(site.base_url) as fetcher:
        started = time.monotonic()
        with pytest.raises(TooLargeError, match=r"5\.0 MB cap"):
            await fetcher.fetch(site.home_url(OCALA))
        assert time.monotonic() - started < 5
    assert site.hits[home_path(OCALA)] == 1  # not retried


async def test_declared_length_over_the_cap_is_refused_before_reading(
    site: FakeBuilderSite,
) -> None:
    async with make_fetcher(site.base_url, max_bytes=10_000) as fetcher:
        with pytest.raises(TooLargeError, match=r"\d+ bytes"):
            await fetcher.fetch(site.home_url(OCALA))


async def test_redirect_loop_fails_fast(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "redirect_loop")
    async with make_fetcher(site.base_url) as fetcher:
        with pytest.raises(RedirectError, match="redirect loop"):
            await fetcher.fetch(site.home_url(OCALA))
        assert fetcher.requests_made == 1 + 2
    assert site.hits[home_path(OCALA)] == 1


async def test_too_many_redirects(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url, max_redirects=0) as fetcher:
        with pytest.raises(RedirectError, match="more than 0 redirects"):
            await fetcher.fetch(site.home_url(OCALA).rstrip("/"))


async def test_redirects_are_followed_and_counted(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        result = await fetcher.fetch(site.home_url(OCALA).rstrip("/"))
        assert fetcher.requests_made == 1 + 2
    assert result.final_url == site.home_url(OCALA)
    assert result.url == site.home_url(OCALA).rstrip("/")


async def test_dropped_connection_is_a_network_error_after_retries(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "disconnect")
    async with make_fetcher(site.base_url, max_attempts=2) as fetcher:
        with pytest.raises(NetworkError, match="gave up after 2 attempts"):
            await fetcher.fetch(site.home_url(OCALA))
    assert site.hits[home_path(OCALA)] == 2


async def test_timeout_is_a_network_error(site: FakeBuilderSite) -> None:
    site.fail(home_path(OCALA), "slow", delay=2.0)
    async with make_fetcher(site.base_url, timeout_s=0.2, max_attempts=2) as fetcher:
        with pytest.raises(NetworkError, match="Timeout"):
            await fetcher.fetch(site.home_url(OCALA))


async def test_non_utf8_body_decodes_with_a_flag(site: FakeBuilderSite) -> None:
    slug = "918-nw-14th-terrace-cape-coral"
    site.fail(home_path(slug), "non_utf8")
    async with make_fetcher(site.base_url) as fetcher:
        result = await fetcher.fetch(site.home_url(slug))
    decoded = result.decode()
    assert decoded.lossy and decoded.charset == "windows-1252"
    assert "café-style breakfast nook" in decoded.text
    assert "windows \u2013 on an oversized" in decoded.text


async def test_conditional_request_uses_etag_and_304(site: FakeBuilderSite) -> None:
    url = f"{site.base_url}/homes-sitemap1.xml"
    async with make_fetcher(site.base_url) as fetcher:
        first = await fetcher.fetch(url, conditional=True)
        second = await fetcher.fetch(url, conditional=True)
        site.touch(OCALA)
        third = await fetcher.fetch(url, conditional=True)
        plain = await fetcher.fetch(url)
    sent = [r for r in site.requests if r.path == "/homes-sitemap1.xml"]
    assert "If-None-Match" not in sent[0].headers
    assert sent[1].headers["If-None-Match"] == sent[2].headers["If-None-Match"]
    assert "If-None-Match" not in sent[3].headers
    assert (first.status, first.from_cache) == (200, False)
    assert (second.status, second.from_cache) == (304, True)
    assert second.body == first.body
    assert (third.status, third.from_cache) == (200, False)
    assert third.body != first.body and plain.body == third.body


async def test_conditional_request_with_last_modified_only() -> None:
    async with FakeBuilderSite(etag=False) as site, make_fetcher(site.base_url) as fetcher:
        url = f"{site.base_url}/homes-sitemap1.xml"
        first = await fetcher.fetch(url, conditional=True)
        second = await fetcher.fetch(url, conditional=True)
        assert "If-Modified-Since" in site.requests[-1].headers
        assert "If-None-Match" not in site.requests[-1].headers
    assert second.from_cache and second.body == first.body


async def test_concurrency_is_bounded() -> None:
    async with (
        FakeBuilderSite(latency=0.05) as site,
        make_fetcher(site.base_url, concurrency=2) as fetcher,
    ):
        await asyncio.gather(*(fetcher.fetch(site.home_url(OCALA)) for _ in range(8)))
        assert site.max_in_flight == 2
    async with FakeBuilderSite(latency=0.05) as site, make_fetcher(site.base_url) as fetcher:
        await asyncio.gather(*(fetcher.fetch(site.home_url(OCALA)) for _ in range(12)))
        assert site.max_in_flight == 4  # the default


async def test_per_request_delay(site: FakeBuilderSite) -> None:
    async with make_fetcher(site.base_url, concurrency=1, delay_s=0.1) as fetcher:
        started = time.monotonic()
        for _ in range(3):
            await fetcher.fetch(site.home_url(OCALA))
        assert time.monotonic() - started >= 0.4  # robots + 3 pages, 0.1 s before each


async def test_fetch_needs_an_open_fetcher() -> None:
    fetcher = PoliteFetcher("http://127.0.0.1:9", respect_robots=False)
    with pytest.raises(RuntimeError, match="not open"):
        await fetcher.fetch("http://127.0.0.1:9/")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        PoliteFetcher("http://127.0.0.1:9", concurrency=0)
    with pytest.raises(ValueError, match="max_attempts"):
        PoliteFetcher("http://127.0.0.1:9", max_attempts=0)


@pytest.fixture
async def trip() -> AsyncIterator[Tripwire]:
    async with Tripwire() as wire:
        yield wire


def _off_site_targets(trip: Tripwire) -> list[str]:
    return [
        trip.url("127.0.0.1", "/"),  # the builder's host, another port
        trip.url("127.0.0.2", "/"),
        trip.url("localhost", "/"),
        trip.url("::1", "/"),
        trip.url("photos.internal.example", "/"),  # resolves to loopback
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/new-homes-for-sale/elsewhere/",
    ]


async def test_redirects_off_the_site_are_not_followed(
    site: FakeBuilderSite, trip: Tripwire, caplog: pytest.LogCaptureFixture
) -> None:
    dns = FakeDns({"photos.internal.example": [["127.0.0.1"]]})
    path = home_path(OCALA)
    async with make_fetcher(site.base_url, resolver=dns) as fetcher:
        for target in _off_site_targets(trip):
            site.fail(path, "redirect", location=target)
            with pytest.raises(RefusedError, match="off the builder's site"):
                await fetcher.fetch(site.home_url(OCALA))
            assert f"redirects off the builder's site to {target}" in caplog.text
        assert fetcher.requests_made == 1 + len(_off_site_targets(trip))  # robots + the 302s
    assert trip.hits == []  # neither the page nor its robots.txt was asked for
    assert dns.lookups == []
    assert site.hits[path] == len(_off_site_targets(trip))


async def test_a_url_off_the_site_is_refused_without_a_request(
    site: FakeBuilderSite, trip: Tripwire
) -> None:
    async with make_fetcher(site.base_url) as fetcher:
        for target in _off_site_targets(trip):
            with pytest.raises(RefusedError):
                await fetcher.fetch(target)
            assert not await fetcher.allowed(target)
        assert fetcher.requests_made == 0
    assert trip.hits == []


async def test_a_home_redirected_off_the_site_is_a_failed_fetch(
    site: FakeBuilderSite, trip: Tripwire
) -> None:
    site.fail(home_path(OCALA), "redirect", location=trip.url("localhost", "/"))
    async with make_fetcher(site.base_url) as fetcher:
        result = await crawl(fetcher, site.base_url, {})
    assert [f.url for f in result.failures] == [site.home_url(OCALA)]
    assert "not followed" in result.failures[0].reason
    assert len(result.homes) == 6
    assert trip.hits == []
