"""Pre-flight checks: images fetched once and judged, caption limits, clear sentences."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from services.outbound import Download, OutboundClient
from services.publishing import check_caption, check_images
from tests.fakes.builder_site import FakeBuilderSite
from tests.fakes.tripwire import FakeDns, Tripwire


async def test_good_jpegs_pass_and_each_is_fetched_once(images, fake) -> None:
    urls = [fake.add_jpeg(f"p{i}.jpg", 1080, 1080) for i in range(3)]
    check = await check_images(images, [*urls, urls[0]], platform="instagram")
    assert check.usable == urls and check.problems == []
    for i in range(3):
        assert len(fake.image_fetches(f"p{i}.jpg")) == 1
    assert fake.graph_calls() == []


async def test_instagram_keeps_order_and_drops_what_does_not_qualify(images, fake) -> None:
    square = fake.add_jpeg("square.jpg", 1000, 1000)
    tall = fake.add_jpeg("tall.jpg", 600, 1000)  # 0.6 < 0.8
    png = fake.add_png("plan.png", 1000, 1000)
    portrait = fake.add_jpeg("portrait.jpg", 800, 1000)  # exactly 4:5
    wide = fake.add_jpeg("wide.jpg", 1910, 1000)  # exactly 1.91
    panorama = fake.add_jpeg("pano.jpg", 3000, 1000)
    check = await check_images(
        images, [square, tall, png, portrait, wide, panorama], platform="instagram"
    )
    assert check.usable == [square, portrait, wide]
    assert len(check.problems) == 3
    assert "Photo 2 is too tall for Instagram (600×1000, ratio 0.60" in check.problems[0]
    assert "Photo 3 is a PNG file but Instagram takes only JPEG" in check.problems[1]
    assert "Photo 6 is too wide" in check.problems[2]


async def test_facebook_accepts_png_and_any_shape(images, fake) -> None:
    urls = [fake.add_png("plan.png", 1000, 1000), fake.add_jpeg("pano.jpg", 3000, 500)]
    check = await check_images(images, urls, platform="facebook")
    assert check.usable == urls and check.problems == []


async def test_html_instead_of_an_image(images, fake) -> None:
    url = fake.add_file("listing.html", b"<html><body>Home</body></html>", "text/html")
    check = await check_images(images, [url], platform="instagram")
    assert check.usable == []
    assert check.problems == [
        f"Photo 1 links to a web page, not a picture ({url}); use the direct link to the "
        "image file."
    ]


async def test_html_served_as_an_image_is_caught_by_pillow(images, fake) -> None:
    url = fake.add_file("liar.jpg", b"<html>nope</html>", "image/jpeg")
    check = await check_images(images, [url], platform="facebook")
    assert check.problems == ["Photo 1 is not a readable picture; use a JPEG photo."]


@pytest.mark.parametrize("chunked", [False, True])
async def test_twelve_megabyte_image_is_refused(images, fake, chunked) -> None:
    big = fake.add_jpeg("big.jpg", 1000, 1000, pad_to_bytes=12 * 1024 * 1024)
    if chunked:
        image = fake.images["big.jpg"]
        big = fake.add_file("big.jpg", image.body, "image/jpeg", chunked=True)
    check = await check_images(images, [big], platform="instagram")
    assert check.usable == []
    [problem] = check.problems
    if chunked:  # no Content-Length: the read stops at the cap
        assert (
            problem == "Photo 1 is larger than the 8 MB Instagram accepts; use a smaller version."
        )
    else:
        assert (
            problem == "Photo 1 is 12.0 MB but Instagram accepts up to 8 MB; use a smaller version."
        )


async def test_facebook_size_limit_is_ten_megabytes(images, fake) -> None:
    nine = fake.add_jpeg("nine.jpg", 1000, 1000, pad_to_bytes=9 * 1024 * 1024)
    assert (await check_images(images, [nine], platform="facebook")).usable == [nine]
    assert (await check_images(images, [nine], platform="instagram")).usable == []


async def test_unreachable_and_malformed_links(images, fake) -> None:
    missing = fake.image_url("gone.jpg")
    check = await check_images(
        images,
        [missing, "ftp://example.com/a.jpg", "not a url", "http://127.0.0.1:9/a.jpg"],
        platform="facebook",
    )
    assert check.usable == []
    # The builder's own site (here the fake) may say what it answered...
    assert check.problems[0].startswith("Photo 1 could not be downloaded (HTTP 404")
    assert check.problems[1].startswith("Photo 2 is not a web link")
    assert check.problems[2].startswith("Photo 3 is not a web link")
    # ...a loopback port that is not the site is never asked.
    assert check.problems[3] == (
        "Photo 4 could not be checked (http://127.0.0.1:9/a.jpg); check that the link opens "
        "publicly in a browser."
    )


async def test_an_image_that_does_not_answer_in_time(images, fake) -> None:
    fake.image_latency_s = 3.0
    url = fake.add_jpeg("slow.jpg", 900, 900)
    started = time.monotonic()
    check = await check_images(images, [url], platform="facebook", timeout_s=0.3)
    assert time.monotonic() - started < 1.5
    assert check.problems == [
        f"Photo 1 could not be downloaded ({url}); check that the link opens publicly."
    ]


@pytest.fixture
async def trip() -> AsyncIterator[Tripwire]:
    async with Tripwire() as wire:
        yield wire


async def test_private_image_links_are_refused_without_a_request(fake, trip) -> None:
    dns = FakeDns({"photos.internal.example": [["10.0.0.7"]], "cam.example": [["127.0.0.1"]]})
    good = fake.add_jpeg("good.jpg", 1080, 1080)
    links = [
        trip.url("127.0.0.1"),  # the site's host, another port
        trip.url("127.0.0.2"),
        trip.url("localhost"),
        trip.url("::1"),
        trip.url("cam.example"),  # a name that resolves to loopback
        "http://photos.internal.example/a.jpg",
        "http://10.0.0.1/a.jpg",
        "http://169.254.169.254/latest/meta-data/iam/",
        good,
    ]
    async with OutboundClient(fake.root_url, resolver=dns) as client:
        check = await check_images(client, links, platform="facebook")
    assert check.usable == [good]
    assert check.problems == [
        f"Photo {n} could not be checked ({url}); check that the link opens publicly in a browser."
        for n, url in enumerate(links[:-1], start=1)
    ]
    assert trip.hits == []


async def test_a_site_image_redirecting_to_a_private_address_is_not_followed(trip) -> None:
    async with FakeBuilderSite() as site, OutboundClient(site.base_url) as client:
        photo = "/wp-content/uploads/2024/04/front.jpg"
        site.fail(photo, "redirect", location=trip.url("localhost"))
        check = await check_images(client, [f"{site.base_url}{photo}"], platform="facebook")
    assert check.usable == []
    [problem] = check.problems
    assert problem.startswith("Photo 1 could not be checked") and "HTTP" not in problem
    assert trip.hits == []


class _PublicHost(OutboundClient):
    """As if a public photo host answered 500: no public host is reachable from a test."""

    async def fetch_bounded(self, url: str, **kwargs: Any) -> Download:
        return Download(url, url, 500, CIMultiDictProxy(CIMultiDict()), b"")


async def test_the_status_of_a_host_other_than_the_builders_is_not_shown() -> None:
    async with _PublicHost("https://holidaybuilders.com") as client:
        other = "https://photos.example.com/a.jpg"
        own = "https://holidaybuilders.com/wp-content/uploads/a.jpg"
        check = await check_images(client, [other, own], platform="facebook")
    assert check.problems == [
        f"Photo 1 could not be checked ({other}); check that the link opens publicly in a browser.",
        f"Photo 2 could not be downloaded (HTTP 500 from {own}); check that the link opens "
        "publicly.",
    ]


async def test_instagram_takes_at_most_ten(images, fake) -> None:
    urls = [fake.add_jpeg(f"p{i}.jpg", 900, 900) for i in range(12)]
    check = await check_images(images, urls, platform="instagram")
    assert check.usable == urls[:10]
    assert check.problems == [
        "Instagram takes at most 10 photos in a post, so the last 2 were left out."
    ]


async def test_fetches_are_bounded(images, fake) -> None:
    fake.image_latency_s = 0.05
    urls = [fake.add_jpeg(f"p{i}.jpg", 900, 900) for i in range(8)]
    check = await check_images(images, urls, platform="facebook", concurrency=2)
    assert len(check.usable) == 8
    starts = sorted(c.at for c in fake.image_fetches())
    # With 2 at a time and 50 ms each, the 8 fetches need at least 4 rounds.
    assert starts[-1] - starts[0] >= 0.14


def test_caption_limits_instagram() -> None:
    assert check_caption("Lovely home #tampa @agent", "instagram") == []
    long = "x" * 3000
    assert check_caption(long, "instagram") == [
        "The caption has 3,000 characters but Instagram allows 2,200; shorten it by 800."
    ]
    tags = " ".join(f"#tag{i}" for i in range(31))
    assert check_caption(tags, "instagram") == [
        "The caption has 31 hashtags but Instagram allows 30; remove 1."
    ]
    mentions = " ".join(f"@user{i}" for i in range(21))
    assert check_caption(mentions, "instagram") == [
        "The caption tags 21 accounts with @ but Instagram allows 20; remove 1."
    ]


def test_caption_counting_ignores_emails_and_anchors() -> None:
    text = " ".join(f"agent{i}@example.com" for i in range(25)) + " page.html#top&#35;"
    assert check_caption(text, "instagram") == []


def test_caption_limits_facebook() -> None:
    assert check_caption("x" * 3000, "facebook") == []
    assert check_caption("#a " * 40, "facebook") == []
    assert check_caption("x" * 70000, "facebook")[0].startswith("The text has 70,000 characters")
