"""Pre-flight checks: images fetched once and judged, caption limits, clear sentences."""

from __future__ import annotations

import pytest

from services.publishing import check_caption, check_images


async def test_good_jpegs_pass_and_each_is_fetched_once(session, fake) -> None:
    urls = [fake.add_jpeg(f"p{i}.jpg", 1080, 1080) for i in range(3)]
    check = await check_images(session, [*urls, urls[0]], platform="instagram")
    assert check.usable == urls and check.problems == []
    for i in range(3):
        assert len(fake.image_fetches(f"p{i}.jpg")) == 1
    assert fake.graph_calls() == []


async def test_instagram_keeps_order_and_drops_what_does_not_qualify(session, fake) -> None:
    square = fake.add_jpeg("square.jpg", 1000, 1000)
    tall = fake.add_jpeg("tall.jpg", 600, 1000)  # 0.6 < 0.8
    png = fake.add_png("plan.png", 1000, 1000)
    portrait = fake.add_jpeg("portrait.jpg", 800, 1000)  # exactly 4:5
    wide = fake.add_jpeg("wide.jpg", 1910, 1000)  # exactly 1.91
    panorama = fake.add_jpeg("pano.jpg", 3000, 1000)
    check = await check_images(
        session, [square, tall, png, portrait, wide, panorama], platform="instagram"
    )
    assert check.usable == [square, portrait, wide]
    assert len(check.problems) == 3
    assert "Photo 2 is too tall for Instagram (600×1000, ratio 0.60" in check.problems[0]
    assert "Photo 3 is a PNG file but Instagram takes only JPEG" in check.problems[1]
    assert "Photo 6 is too wide" in check.problems[2]


async def test_facebook_accepts_png_and_any_shape(session, fake) -> None:
    urls = [fake.add_png("plan.png", 1000, 1000), fake.add_jpeg("pano.jpg", 3000, 500)]
    check = await check_images(session, urls, platform="facebook")
    assert check.usable == urls and check.problems == []


async def test_html_instead_of_an_image(session, fake) -> None:
    url = fake.add_file("listing.html", b"<html><body>Home</body></html>", "text/html")
    check = await check_images(session, [url], platform="instagram")
    assert check.usable == []
    assert check.problems == [
        f"Photo 1 links to a web page, not a picture ({url}); use the direct link to the "
        "image file."
    ]


async def test_html_served_as_an_image_is_caught_by_pillow(session, fake) -> None:
    url = fake.add_file("liar.jpg", b"<html>nope</html>", "image/jpeg")
    check = await check_images(session, [url], platform="facebook")
    assert check.problems == ["Photo 1 is not a readable picture; use a JPEG photo."]


@pytest.mark.parametrize("chunked", [False, True])
async def test_twelve_megabyte_image_is_refused(session, fake, chunked) -> None:
    big = fake.add_jpeg("big.jpg", 1000, 1000, pad_to_bytes=12 * 1024 * 1024)
    if chunked:
        image = fake.images["big.jpg"]
        big = fake.add_file("big.jpg", image.body, "image/jpeg", chunked=True)
    check = await check_images(session, [big], platform="instagram")
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


async def test_facebook_size_limit_is_ten_megabytes(session, fake) -> None:
    nine = fake.add_jpeg("nine.jpg", 1000, 1000, pad_to_bytes=9 * 1024 * 1024)
    assert (await check_images(session, [nine], platform="facebook")).usable == [nine]
    assert (await check_images(session, [nine], platform="instagram")).usable == []


async def test_unreachable_and_malformed_links(session, fake) -> None:
    missing = fake.image_url("gone.jpg")
    check = await check_images(
        session,
        [missing, "ftp://example.com/a.jpg", "not a url", "http://127.0.0.1:9/a.jpg"],
        platform="facebook",
    )
    assert check.usable == []
    assert check.problems[0].startswith("Photo 1 could not be downloaded (HTTP 404")
    assert check.problems[1].startswith("Photo 2 is not a web link")
    assert check.problems[2].startswith("Photo 3 is not a web link")
    assert check.problems[3].startswith("Photo 4 could not be downloaded")


async def test_instagram_takes_at_most_ten(session, fake) -> None:
    urls = [fake.add_jpeg(f"p{i}.jpg", 900, 900) for i in range(12)]
    check = await check_images(session, urls, platform="instagram")
    assert check.usable == urls[:10]
    assert check.problems == [
        "Instagram takes at most 10 photos in a post, so the last 2 were left out."
    ]


async def test_fetches_are_bounded(session, fake) -> None:
    fake.image_latency_s = 0.05
    urls = [fake.add_jpeg(f"p{i}.jpg", 900, 900) for i in range(8)]
    check = await check_images(session, urls, platform="facebook", concurrency=2)
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
