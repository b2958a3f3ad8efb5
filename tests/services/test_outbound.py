"""The outbound guard: where a request may go, checked before every hop and at DNS time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from services.outbound import (
    DownloadFailed,
    OutboundClient,
    OutboundGuard,
    OutboundRefused,
    ResponseTooLarge,
    TooManyRedirects,
    forbidden_address,
)
from tests.fakes.builder_site import FakeBuilderSite
from tests.fakes.tripwire import FakeDns, Tripwire

PHOTO = "/wp-content/uploads/2024/04/front.jpg"


@pytest.fixture
async def trip() -> AsyncIterator[Tripwire]:
    async with Tripwire() as wire:
        yield wire


@pytest.fixture
async def site() -> AsyncIterator[FakeBuilderSite]:
    async with FakeBuilderSite() as fake:
        yield fake


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.0.0.2",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.2.10",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_forbidden_addresses(address: str) -> None:
    assert forbidden_address(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not forbidden_address(address)


def test_site_scope_is_the_builders_host_only() -> None:
    guard = OutboundGuard("https://holidaybuilders.com")
    for url in [
        "https://holidaybuilders.com/new-homes-for-sale/a/",
        "https://www.holidaybuilders.com/robots.txt",
        "http://holidaybuilders.com/x",  # the http twin (a redirect to https starts here)
        "https://HolidayBuilders.com./x",
    ]:
        guard.check_url(url, "site")
    for url in [
        "https://cdn.holidaybuilders.com/x",
        "https://holidaybuilders.com.evil.example/x",
        "https://holidaybuilders.com:8443/x",
        "https://holidaybuilders.com@evil.example/x",
        "https://example.com/",
        "ftp://holidaybuilders.com/x",
        "not a url",
    ]:
        with pytest.raises(OutboundRefused):
            guard.check_url(url, "site")


def test_a_site_on_a_port_owns_that_port_only() -> None:
    guard = OutboundGuard("http://127.0.0.1:8123")
    assert guard.check_url("http://127.0.0.1:8123/x", "public").port == 8123
    for url in ["http://127.0.0.1:8124/x", "http://127.0.0.1/x", "http://localhost:8123/x"]:
        with pytest.raises(OutboundRefused):
            guard.check_url(url, "site")
    for url in ["http://127.0.0.1:8124/x", "http://127.0.0.1/x"]:
        with pytest.raises(OutboundRefused, match="private or reserved"):
            guard.check_url(url, "public")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.jpg",
        "http://127.0.0.2:8080/a.jpg",
        "http://[::1]/a.jpg",
        "http://[::ffff:127.0.0.1]/a.jpg",
        "http://10.0.0.1/a.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:22/",
        "http://2130706433/a.jpg",  # 127.0.0.1 as one number
        "http://0x7f.1/a.jpg",
        "http://127.1/a.jpg",
        "file:///etc/passwd",
        "gopher://example.com/",
    ],
)
def test_public_scope_refuses_private_literals(url: str) -> None:
    with pytest.raises(OutboundRefused):
        OutboundGuard("https://holidaybuilders.com").check_url(url, "public")


async def test_the_site_itself_is_reachable_even_on_loopback(trip: Tripwire) -> None:
    # The control for the tests below: the tripwire does answer when it is the site.
    async with OutboundClient(trip.url()) as client:
        got = await client.fetch_bounded(trip.url(), scope="site", max_bytes=100, timeout_s=5)
    assert got.status == 404 and [h.path for h in trip.hits] == ["/photo.jpg"]


async def test_private_targets_are_refused_before_any_request(
    site: FakeBuilderSite, trip: Tripwire
) -> None:
    dns = FakeDns({"photos.internal.example": [["127.0.0.1"]]})
    targets = [
        trip.url("127.0.0.1"),  # the site's host, another port
        trip.url("127.0.0.2"),
        trip.url("localhost"),
        trip.url("::1"),
        trip.url("photos.internal.example"),  # a name that resolves to loopback
        "http://10.0.0.1/a.jpg",
        "http://169.254.169.254/latest/meta-data/",
    ]
    async with OutboundClient(site.base_url, resolver=dns) as client:
        for url in targets:
            started = time.monotonic()
            with pytest.raises(OutboundRefused):
                await client.fetch_bounded(url, scope="public", max_bytes=1000, timeout_s=5)
            assert time.monotonic() - started < 1, url  # refused, not timed out
    assert trip.hits == []
    assert dns.lookups == ["photos.internal.example"]


async def test_a_name_is_refused_if_any_of_its_addresses_is_private(trip: Tripwire) -> None:
    dns = FakeDns({"mixed.example": [["8.8.8.8", "127.0.0.1"]]})
    async with OutboundClient(None, resolver=dns) as client:
        with pytest.raises(OutboundRefused, match="private or reserved"):
            await client.fetch_bounded(
                trip.url("mixed.example"), scope="public", max_bytes=1000, timeout_s=5
            )
    assert trip.hits == []


async def test_dns_rebinding_cannot_swap_the_address_after_the_check(trip: Tripwire) -> None:
    # First answer public, every later one loopback: a guard that resolved to check and
    # let the connection resolve again would connect to the tripwire.
    dns = FakeDns({"rebind.example": [["8.8.8.8"], ["127.0.0.1"]]})
    async with OutboundClient(None, resolver=dns) as client:
        with pytest.raises((DownloadFailed, OutboundRefused)):
            await client.fetch_bounded(
                trip.url("rebind.example"), scope="public", max_bytes=1000, timeout_s=0.5
            )
    assert trip.hits == []
    assert dns.lookups == ["rebind.example"]  # resolved once, by the connection itself


async def test_redirects_are_checked_hop_by_hop(site: FakeBuilderSite, trip: Tripwire) -> None:
    dns = FakeDns({"photos.internal.example": [["10.1.2.3"]]})
    targets = [
        trip.url("127.0.0.1"),
        trip.url("127.0.0.2"),
        trip.url("localhost"),
        trip.url("::1"),
        trip.url("photos.internal.example"),
        "http://169.254.169.254/latest/meta-data/",
    ]
    async with OutboundClient(site.base_url, resolver=dns) as client:
        for target in targets:
            site.fail(PHOTO, "redirect", location=target)
            with pytest.raises(OutboundRefused):
                await client.fetch_bounded(
                    f"{site.base_url}{PHOTO}", scope="public", max_bytes=1000, timeout_s=5
                )
            site.fail(PHOTO, "redirect", location=target)
            with pytest.raises(OutboundRefused, match="not the builder's site"):
                await client.fetch_bounded(
                    f"{site.base_url}{PHOTO}", scope="site", max_bytes=1000, timeout_s=5
                )
    assert trip.hits == []
    assert site.hits[PHOTO] == 2 * len(targets)


async def test_downloads_are_bounded_in_size_redirects_and_time(site: FakeBuilderSite) -> None:
    url = f"{site.base_url}{PHOTO}"
    async with OutboundClient(site.base_url) as client:
        site.fail(PHOTO, "enormous", size=4 * 1024 * 1024)
        with pytest.raises(ResponseTooLarge) as too_big:
            await client.fetch_bounded(url, scope="public", max_bytes=100_000, timeout_s=5)
        assert too_big.value.declared is None and too_big.value.read > 100_000

        site.fail(PHOTO, "redirect_loop")
        with pytest.raises(TooManyRedirects, match="more than 3 redirects"):
            await client.fetch_bounded(
                url, scope="public", max_bytes=1000, timeout_s=5, max_redirects=3
            )

        site.fail(PHOTO, "slow", delay=3.0)
        started = time.monotonic()
        with pytest.raises(DownloadFailed, match=r"no answer within 0\.3 s"):
            await client.fetch_bounded(url, scope="public", max_bytes=1000, timeout_s=0.3)
        assert time.monotonic() - started < 1.5

        site.clear_faults()
        page = f"{site.base_url}/new-homes-for-sale/5127-sw-88th-place-ocala"
        got = await client.fetch_bounded(page, scope="site", max_bytes=1 << 20, timeout_s=5)
    assert got.status == 200 and got.final_url.endswith("/5127-sw-88th-place-ocala/")
    assert got.content_type == "text/html" and b"5127" in got.body
