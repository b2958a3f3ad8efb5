"""The home-page parser: every field of every fixture home, and pages it must refuse."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.scraping.parser import (
    ParseError,
    json_ld_date_modified,
    parse_community,
    parse_home,
    price_from_text,
    stat_key,
    status_from_badge,
)
from tests.fakes.builder_site import HOME_SLUGS, fixture, home_fixture
from tests.services.scraping.expected_homes import expected_homes

BASE = "https://holidaybuilders.com"
EXPECTED = expected_homes(BASE)


def _url(slug: str) -> str:
    return f"{BASE}/new-homes-for-sale/{slug}/"


def test_every_fixture_home_is_covered() -> None:
    assert set(EXPECTED) == set(HOME_SLUGS)


@pytest.mark.parametrize("slug", HOME_SLUGS)
def test_every_field_of_every_fixture_home(slug: str) -> None:
    home = parse_home(home_fixture(slug, BASE), _url(slug))
    got = dataclasses.asdict(home)
    expected = EXPECTED[slug]
    assert set(got) == set(expected), "a ParsedHome field has no expected value"
    for name, value in expected.items():
        assert got[name] == value, f"{slug}: {name}"
        if isinstance(value, Decimal):
            assert isinstance(got[name], Decimal)


@pytest.mark.parametrize("slug", HOME_SLUGS)
def test_bytes_and_text_parse_the_same(slug: str) -> None:
    text = home_fixture(slug, BASE)
    assert parse_home(text.encode("utf-8"), _url(slug)) == parse_home(text, _url(slug))


def test_non_utf8_bytes_are_read_as_windows_1252() -> None:
    slug = "918-nw-14th-terrace-cape-coral"
    body = home_fixture(slug, BASE).encode("windows-1252")
    home = parse_home(body, _url(slug))
    assert home.plan_description == EXPECTED[slug]["plan_description"]  # "café", "–"


def test_a_404_page_is_not_a_home() -> None:
    with pytest.raises(ParseError, match="not a home page"):
        parse_home(fixture("not-found.html", BASE), _url("gone-home"))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_a_truncated_page_is_refused(fraction: float) -> None:
    slug = "5127-sw-88th-place-ocala"
    text = home_fixture(slug, BASE)
    with pytest.raises(ParseError):
        parse_home(text[: int(len(text) * fraction)], _url(slug))


@pytest.mark.parametrize(
    "junk",
    [b"", b"\x00\xff\xfe garbage \x81\x8d", "<html><body>hello</body></html>", "%PDF-1.7 ..."],
)
def test_junk_raises_parse_error_not_anything_else(junk: bytes | str) -> None:
    with pytest.raises(ParseError):
        parse_home(junk, _url("junk"))


def test_source_id_comes_from_the_slug_even_with_query_and_case() -> None:
    slug = "5127-sw-88th-place-ocala"
    home = parse_home(
        home_fixture(slug, BASE), f"{BASE}/new-homes-for-sale/5127-SW-88th-Place-Ocala/"
    )
    assert home.source_id == slug


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$349,990", Decimal("349990")),
        ("$ 349,990.00", Decimal("349990.00")),
        ("Priced at $1,049,900", Decimal("1049900")),
        ("$299,990 - $329,990", Decimal("299990")),
        ("Was $319,990 Now $309,990", Decimal("309990")),
        ("Call for pricing", None),
        ("Call for Pricing!", None),
        ("From the $300s", None),
        ("$350K", None),
        ("Sold", None),
        ("", None),
        (None, None),
    ],
)
def test_price_from_text(text: str | None, expected: Decimal | None) -> None:
    assert price_from_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Move In Ready", "active"),
        ("MOVE-IN READY", "active"),
        ("Quick Move-In", "active"),
        ("Coming Soon", "upcoming"),
        ("Under Construction", "upcoming"),
        ("Sold Out", "sold"),
        ("SOLD", "sold"),
        ("Model Home", None),
        ("", None),
        (None, None),
    ],
)
def test_status_from_badge(text: str | None, expected: str | None) -> None:
    assert status_from_badge(text) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Beds", "beds"),
        ("Bedrooms", "beds"),
        ("Baths", "baths"),
        ("Half Baths", "half_baths"),
        ("Car", "garage"),
        ("Car Garage", "garage"),
        ("Sq Ft", "sqft"),
        ("Sq. Ft.", "sqft"),
        ("SQFT", "sqft"),
        ("Stories", None),
        ("Carport?", None),
    ],
)
def test_stat_key(label: str, expected: str | None) -> None:
    assert stat_key(label) == expected


def test_half_baths_stat_adds_to_baths() -> None:
    slug = "3305-sandhill-crane-road-lehigh-acres"
    text = home_fixture(slug, BASE).replace(
        "<span>Baths</span></div></div></div>",
        "<span>Baths</span></div></div></div>"
        '<div><div class="background-gray-blue uk-padding-small"><div class="uk-flex '
        'uk-flex-center"><h3>1</h3><span>Half Bath</span></div></div></div>',
    )
    assert parse_home(text, _url(slug)).baths == Decimal("2.5")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Ocala, FL 34476", ("Ocala", "FL", "34476")),
        ("Ocala, Florida 34476", ("Ocala", "FL", "34476")),
        ("Ocala FL 34476", ("Ocala", "FL", "34476")),
        ("Port St. Lucie, FL 34987-1234", ("Port St. Lucie", "FL", "34987-1234")),
        ("Ocala, FL", ("Ocala", "FL", None)),
        (", FL 32583", ("Ocala", "FL", "32583")),  # city from the breadcrumb's market
        ("Coming 2025", ("Ocala", None, None)),
    ],
)
def test_city_state_zip_line(line: str, expected: tuple[str | None, ...]) -> None:
    slug = "5127-sw-88th-place-ocala"
    text = home_fixture(slug, BASE).replace(">Ocala, FL 34476<", f">{line}<")
    home = parse_home(text, _url(slug))
    assert (home.city, home.state, home.zip_code) == expected


def test_bad_coordinates_become_none() -> None:
    slug = "5127-sw-88th-place-ocala"
    text = home_fixture(slug, BASE).replace('data-lat="29.1097"', 'data-lat="north"')
    home = parse_home(text, _url(slug))
    assert (home.latitude, home.longitude) == (None, None)


class TestJsonLd:
    def test_graph_prefers_the_page_node(self) -> None:
        raw = (
            '{"@graph":[{"@type":"Organization","dateModified":"2020-01-01"},'
            '{"@type":["WebPage","ItemPage"],"dateModified":"2024-05-02T14:03:11+00:00"}]}'
        )
        assert json_ld_date_modified([raw]) == datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC)

    def test_list_form(self) -> None:
        raw = '[{"@type":"WebPage","dateModified":"2024-05-03T10:00:00-04:00"}]'
        assert json_ld_date_modified([raw]) == datetime(2024, 5, 3, 14, 0, tzinfo=UTC)

    def test_malformed_json_still_yields_the_date(self) -> None:
        raw = '{"@graph":[{"@type":"WebPage","name":"The "Destin"","dateModified":"2024-05-01",},]}'
        assert json_ld_date_modified([raw]) == datetime(2024, 5, 1, tzinfo=UTC)

    @pytest.mark.parametrize(
        "raw", ["", "{", "null", "[]", '{"dateModified": 12}', '{"dateModified": "soon"}']
    )
    def test_nothing_usable_is_none(self, raw: str) -> None:
        assert json_ld_date_modified([raw]) is None

    @pytest.mark.parametrize("depth", [994, 100_000])
    def test_json_nested_too_deep_is_no_date(self, depth: int) -> None:
        # These raised RecursionError: in the decoder (100,000) or in the walk (994).
        for raw in ("[" * depth + "{}" + "]" * depth, '{"a":' * depth + "{}" + "}" * depth):
            assert json_ld_date_modified([raw]) is None
        deep = '{"a":' * 994 + '{"dateModified":"2024-05-01"}' + "}" * 994
        assert json_ld_date_modified([deep]) == datetime(2024, 5, 1, tzinfo=UTC)

    def test_an_out_of_range_date_is_no_date(self) -> None:
        raw = '{"@type":"WebPage","dateModified":"0001-01-01T00:00:00+01:00"}'
        assert json_ld_date_modified([raw]) is None

    def test_meta_wins_over_json_ld(self) -> None:
        slug = "5127-sw-88th-place-ocala"
        text = home_fixture(slug, BASE).replace(
            '"dateModified":"2024-05-02T14:03:11+00:00"', '"dateModified":"2019-01-01T00:00:00Z"'
        )
        home = parse_home(text, _url(slug))
        assert home.page_modified == datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC)


class TestImages:
    def test_logos_icons_svg_and_other_homes_are_skipped(self) -> None:
        for slug in HOME_SLUGS:
            urls = parse_home(home_fixture(slug, BASE), _url(slug)).image_urls
            for url in urls:
                assert url.startswith(
                    ("https://holidaybuilders.com/", "https://www.holidaybuilders")
                )
                assert "logo" not in url and "icon" not in url and not url.endswith(".svg")
                assert "captiva-5131" not in url  # the "other homes" card on the Sanibel page
            assert len(urls) == len(set(urls))

    def test_base_href_and_relative_urls(self) -> None:
        slug = "10421-sw-cabernet-drive-port-st-lucie"
        text = home_fixture(slug, BASE).replace(
            "<head>", '<head><base href="https://cdn.example.com/site/">', 1
        )
        urls = parse_home(text, _url(slug)).image_urls
        assert "https://cdn.example.com/wp-content/uploads/2024/04/captiva-10421-patio.jpg" in urls

    def test_page_without_gallery_uses_content_images(self) -> None:
        slug = "3305-sandhill-crane-road-lehigh-acres"
        text = home_fixture(slug, BASE).replace(
            "</main>", '<img src="/wp-content/uploads/2024/05/sandhill-front.jpg" alt=""></main>'
        )
        urls = parse_home(text, _url(slug)).image_urls
        assert urls == [f"{BASE}/wp-content/uploads/2024/05/sandhill-front.jpg"]

    @pytest.mark.parametrize(
        "markup",
        [
            # Each raised out of parse_home: float("²") and urlsplit's "Invalid IPv6 URL".
            '<div class="gallery"><img srcset="/a.jpg 1w, /b.jpg ²w"></div>',
            '<div class="slider"><a href="http://[::1/a.jpg">x</a></div>',
            '<meta property="og:image" content="http://[zz]/a.jpg">',
            '<base href="http://[::1/">',
        ],
    )
    def test_unreadable_image_urls_are_skipped(self, markup: str) -> None:
        slug = "5127-sw-88th-place-ocala"
        text = home_fixture(slug, BASE).replace("</body>", markup + "</body>", 1)
        home = parse_home(text, _url(slug))
        assert home.address == "5127 SW 88th Place"
        assert f"{BASE}/wp-content/uploads/2024/04/sanibel-5127-kitchen.jpg" in home.image_urls
        assert not any("[" in url for url in home.image_urls)


def test_community_page() -> None:
    url = f"{BASE}/new-home-communities/ocala/oak-hammock-preserve/"
    community = parse_community(fixture("communities/oak-hammock-preserve.html", BASE), url)
    assert community.name == "Oak Hammock Preserve"
    assert community.sales_hours == ["Mon \u2013 Sat: 10am \u2013 6pm", "Sunday: 12pm \u2013 6pm"]
    assert community.description is not None
    assert community.description.startswith("Oak Hammock Preserve is a gated community")
    assert community.source_url == url


def test_markup_after_an_early_closing_html_tag_is_still_read() -> None:
    # libxml2 puts what follows a stray </html> in further top-level elements.
    slug = "5127-sw-88th-place-ocala"
    home = parse_home("<</html>" + home_fixture(slug, BASE)[1:], _url(slug))
    assert dataclasses.asdict(home) == EXPECTED[slug]
    assert home.address == "5127 SW 88th Place" and home.price == Decimal("289990")


def test_an_xml_declaration_in_a_text_page_is_tolerated() -> None:
    slug = "5127-sw-88th-place-ocala"
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + home_fixture(slug, BASE)
    assert parse_home(text, _url(slug)) == parse_home(home_fixture(slug, BASE), _url(slug))
