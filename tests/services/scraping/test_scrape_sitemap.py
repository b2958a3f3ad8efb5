"""The sitemap reader: index and urlset, normalisation, lastmod, and unusable sitemaps."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from services.scraping.models import SitemapEntry
from services.scraping.sitemap import (
    SitemapError,
    home_entries,
    normalize_home_url,
    parse_lastmod,
    parse_sitemap_xml,
    read_sitemap,
    source_id_from_url,
)
from tests.fakes.builder_site import HOME_SLUGS, FakeBuilderSite, fixture
from tests.services.scraping.conftest import make_fetcher
from tests.services.scraping.expected_homes import SITEMAP_LASTMODS

BASE = "https://holidaybuilders.com"


def _expected_entries(base: str) -> list[SitemapEntry]:
    return [
        SitemapEntry(f"{base}/new-homes-for-sale/{slug}/", slug, SITEMAP_LASTMODS[slug])
        for slug in HOME_SLUGS
    ]


def test_sitemap_index_fixture() -> None:
    document = parse_sitemap_xml(fixture("homes-sitemap.xml", BASE).encode())
    assert document.kind == "index"
    assert document.locs == [(f"{BASE}/homes-sitemap1.xml", "2024-05-04T11:22:33+00:00")]


def test_urlset_fixture_gives_every_home_once_normalised() -> None:
    document = parse_sitemap_xml(fixture("homes-sitemap1.xml", BASE).encode())
    assert document.kind == "urlset"
    assert len(document.locs) == 11  # archive, community, foreign host and a www twin included
    assert home_entries(document.locs, BASE) == _expected_entries(BASE)


def test_gzipped_sitemap() -> None:
    body = gzip.compress(fixture("homes-sitemap1.xml", BASE).encode())
    assert home_entries(parse_sitemap_xml(body).locs, BASE) == _expected_entries(BASE)


def test_sitemap_without_namespace_and_with_leading_whitespace() -> None:
    body = b"\n  <urlset><url><loc>https://holidaybuilders.com/new-homes-for-sale/a/</loc></url></urlset>"
    assert parse_sitemap_xml(body).locs == [
        ("https://holidaybuilders.com/new-homes-for-sale/a/", None)
    ]


def test_duplicate_slugs_keep_the_latest_lastmod() -> None:
    locs = [
        (f"{BASE}/new-homes-for-sale/a/", "2024-01-01"),
        ("https://www.holidaybuilders.com/new-homes-for-sale/A/?x=1", "2024-02-01"),
        (f"{BASE}/new-homes-for-sale/a", None),
    ]
    assert home_entries(locs, BASE) == [
        SitemapEntry(f"{BASE}/new-homes-for-sale/a/", "a", datetime(2024, 2, 1, tzinfo=UTC))
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{BASE}/new-homes-for-sale/abc/", f"{BASE}/new-homes-for-sale/abc/"),
        (f"{BASE}/new-homes-for-sale/abc", f"{BASE}/new-homes-for-sale/abc/"),
        (f"{BASE}/new-homes-for-sale/abc/?utm_source=x#gallery", f"{BASE}/new-homes-for-sale/abc/"),
        (f"{BASE}/new-homes-for-sale//abc//", f"{BASE}/new-homes-for-sale/abc/"),
        (
            "https://www.holidaybuilders.com/new-homes-for-sale/abc/",
            f"{BASE}/new-homes-for-sale/abc/",
        ),
        ("http://holidaybuilders.com/new-homes-for-sale/abc/", f"{BASE}/new-homes-for-sale/abc/"),
        (
            "https://HolidayBuilders.com:443/new-homes-for-sale/ABC/",
            f"{BASE}/new-homes-for-sale/abc/",
        ),
        (
            "  https://holidaybuilders.com/new-homes-for-sale/abc/\n",
            f"{BASE}/new-homes-for-sale/abc/",
        ),
        (f"{BASE}/new-homes-for-sale/", None),
        (f"{BASE}/new-homes-for-sale/abc/photos/", None),
        (f"{BASE}/new-home-communities/ocala/oak-hammock-preserve/", None),
        ("https://other-builder.example/new-homes-for-sale/abc/", None),
        ("https://holidaybuilders.com.evil.example/new-homes-for-sale/abc/", None),
        ("ftp://holidaybuilders.com/new-homes-for-sale/abc/", None),
        # Hosts urlsplit cannot read are no site's homes (they raised ValueError).
        ("https://[::1/new-homes-for-sale/abc/", None),
        ("https://[zz]/new-homes-for-sale/abc/", None),
    ],
)
def test_normalize_home_url(url: str, expected: str | None) -> None:
    assert normalize_home_url(url, BASE) == expected


def test_www_base_url_makes_www_canonical() -> None:
    www = "https://www.holidaybuilders.com"
    assert (
        normalize_home_url(f"{BASE}/new-homes-for-sale/abc/", www)
        == f"{www}/new-homes-for-sale/abc/"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{BASE}/new-homes-for-sale/5127-sw-88th-place-ocala/", "5127-sw-88th-place-ocala"),
        ("/new-homes-for-sale/abc?x=1", "abc"),
        (f"{BASE}/new-homes-for-sale/", None),
        (f"{BASE}/floor-plans/sanibel/", None),
        ("https://[::1/new-homes-for-sale/abc/", None),
    ],
)
def test_source_id_from_url(url: str, expected: str | None) -> None:
    assert source_id_from_url(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-02T14:03:11+00:00", datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC)),
        ("2024-05-03T10:00:00-04:00", datetime(2024, 5, 3, 14, 0, tzinfo=UTC)),
        ("2024-05-01T09:15:00Z", datetime(2024, 5, 1, 9, 15, tzinfo=UTC)),
        ("2024-05-01T09:15:00.123456Z", datetime(2024, 5, 1, 9, 15, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T09:15+02:00", datetime(2024, 5, 1, 7, 15, tzinfo=UTC)),
        ("2024-04-20", datetime(2024, 4, 20, tzinfo=UTC)),
        ("2024-04", datetime(2024, 4, 1, tzinfo=UTC)),
        (" 2024-04-20 ", datetime(2024, 4, 20, tzinfo=UTC)),
        ("yesterday", None),
        # In range as written, out of range in UTC (raised OverflowError).
        ("0001-01-01T00:00:00+01:00", None),
        ("9999-12-31T23:59:59-01:00", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_lastmod(text: str | None, expected: datetime | None) -> None:
    parsed = parse_lastmod(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body><h1>Down for maintenance</h1></body></html>", "not a sitemap"),
        (b"<!DOCTYPE html><html><body><p>Error<br></body></html>", "not valid XML"),
        (b"Service Unavailable", "not valid XML"),
        (b"<?xml version='1.0'?><urlset><url><loc>x</loc>", "not valid XML"),
        (b"", "empty"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_unusable_sitemap_raises_sitemap_error(body: bytes, message: str) -> None:
    with pytest.raises(SitemapError, match=message):
        parse_sitemap_xml(body)


def test_external_entities_are_not_resolved(tmp_path: object) -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b"<urlset><url><loc>https://holidaybuilders.com/new-homes-for-sale/&x;/</loc></url></urlset>"
    )
    try:
        locs = parse_sitemap_xml(body).locs
    except SitemapError:
        return  # refusing the document is fine too
    assert all("/etc/" not in loc and loc.count("/") <= 5 for loc, _ in locs)


@pytest.mark.parametrize("mode", ["index", "urlset"])
async def test_read_sitemap_from_the_fake_site(mode: str) -> None:
    async with FakeBuilderSite(sitemap_mode=mode) as site, make_fetcher(site.base_url) as fetcher:  # type: ignore[arg-type]
        read = await read_sitemap(fetcher, site.base_url + "/")
    assert read.ok and read.failures == []
    assert read.entries == _expected_entries(site.base_url)
    assert read.documents == (2 if mode == "index" else 1)


async def test_index_with_several_children(site: FakeBuilderSite) -> None:
    site.per_sitemap = 4
    site.add_synthetic_homes(10)
    async with make_fetcher(site.base_url) as fetcher:
        read = await read_sitemap(fetcher, site.base_url)
    assert read.ok
    assert len(read.entries) == 17
    assert read.documents == 1 + 6  # 11 fixture items + 10 synthetic, 4 per child
    assert sorted(p for p in site.hits if "sitemap" in p) == sorted(site.sitemap_paths())


async def test_a_failing_child_sitemap_makes_the_read_partial(site: FakeBuilderSite) -> None:
    site.per_sitemap = 4
    site.fail("/homes-sitemap2.xml", "status", status=500)
    async with make_fetcher(site.base_url) as fetcher:
        read = await read_sitemap(fetcher, site.base_url)
    assert not read.ok
    assert [f.url for f in read.failures] == [f"{site.base_url}/homes-sitemap2.xml"]
    assert "HTTP 500" in read.failures[0].reason
    assert 0 < len(read.entries) < 7


def test_unreadable_locs_are_skipped_not_raised() -> None:
    locs = [
        ("https://[::1/new-homes-for-sale/a/", "2024-01-01"),
        (f"{BASE}/new-homes-for-sale/b/", "0001-01-01T00:00:00+01:00"),
    ]
    assert home_entries(locs, BASE) == [SitemapEntry(f"{BASE}/new-homes-for-sale/b/", "b", None)]


async def test_sitemap_that_is_not_xml(site: FakeBuilderSite) -> None:
    site.fail("/homes-sitemap.xml", "not_xml")
    async with make_fetcher(site.base_url) as fetcher:
        read = await read_sitemap(fetcher, site.base_url)
    assert not read.ok and read.entries == []
    assert read.failures[0].url == f"{site.base_url}/homes-sitemap.xml"
    assert "not a sitemap" in read.failures[0].reason
