"""Fuzz the page parser (services/scraping/parser.py and its tree_index.py selectors).

Any page, whole, truncated, mangled or hostile, gives a `ParsedHome` or a `ParseError`
(the crawler's "not understood"); never another exception. Pages are the fixture homes
with fragments inserted, cut or replaced, and arbitrary text and bytes.
"""

from __future__ import annotations

import json
from datetime import timedelta
from html import escape
from typing import Any
from urllib.parse import urlsplit

from hypothesis import example, given
from hypothesis import strategies as st

from services.scraping.models import ParsedCommunity, ParsedHome
from services.scraping.parser import (
    ParseError,
    json_ld_date_modified,
    parse_community,
    parse_home,
)
from services.scraping.parser_process import ParserProcess
from tests.fakes.builder_site import HOME_SLUGS, fixture, home_fixture

BASE = "https://holidaybuilders.com"
URL = f"{BASE}/new-homes-for-sale/5127-sw-88th-place-ocala/"
HOMES = {slug: home_fixture(slug, BASE) for slug in HOME_SLUGS}
COMMUNITY = fixture("communities/oak-hammock-preserve.html", BASE)

# -- hostile fragments ------------------------------------------------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["@type", "@graph", "dateModified", "x"]) | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)
_dates = st.sampled_from(
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2024-05-02T14:03:11+00:00",
        "2024-02-30",
        "",
        "\x00",
    ]
) | st.text(max_size=30)
_json_ld = st.one_of(
    _json_values.map(json.dumps),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(0, 200_000)),
    st.builds(lambda n: '{"a":' * n + "1" + "}" * n, st.integers(0, 200_000)),
    st.builds(
        lambda kind, date, n: json.dumps([{"@type": kind, "dateModified": date}] * n),
        st.sampled_from(["WebPage", ["ItemPage"], None, 5]),
        _dates,
        st.integers(1, 3),
    ),
    st.builds(lambda d: '{"dateModified": "%s", oops' % d, _dates),  # noqa: UP031
    st.sampled_from(["1e999999", "NaN", "-Infinity", '"\\ud800"', "{}" * 1000, "</script>"]),
    st.text(max_size=50),
)
_urls = st.text(max_size=40) | st.sampled_from(
    [
        "http://[::1/a.jpg",
        "http://[zz]/a.jpg",
        "https://[::1]:99999/a.jpg",
        "//x.test/a-100x100.jpg",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)//.png",
        "https://bücher.de/a.webp",
        "\t\nhttps://x.test/a.jpg",
        "",
    ]
)
_srcsets = st.lists(
    st.builds(
        lambda url, size: f"{url} {size}",
        _urls,
        st.sampled_from(["1w", "²w", "١٢w", "1.5x", "9" * 400 + "w", "w", ".w", "1e9w", ""])
        | st.text(max_size=6),
    ),
    max_size=4,
).map(", ".join)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")


# Whole elements (text escaped): each may spoil a field, never the page.
_elements = st.one_of(
    _json_ld.map(lambda j: f'<script type="application/ld+json">{j}</script>'),
    _srcsets.map(lambda s: f'<div class="gallery"><img srcset="{_attr(s)}"></div>'),
    _srcsets.map(lambda s: f'<img data-srcset="{_attr(s)}" data-src="x">'),
    _urls.map(lambda u: f'<div class="slider"><a href="{_attr(u)}">x</a></div>'),
    _urls.map(lambda u: f'<base href="{_attr(u)}">'),
    _urls.map(lambda u: f'<meta property="og:image" content="{_attr(u)}">'),
    _dates.map(lambda d: f'<meta property="article:modified_time" content="{_attr(d)}">'),
    st.tuples(st.text(max_size=12), st.text(max_size=12)).map(
        lambda c: f'<div class="marker" data-lat="{_attr(c[0])}" data-lng="{_attr(c[1])}"></div>'
    ),
    st.tuples(st.text(max_size=10), st.text(max_size=20)).map(
        lambda s: (
            '<div class="background-gray-blue uk-padding-small"><div class="uk-flex '
            f'uk-flex-center"><span>{escape(s[0])}</span><h3>{escape(s[1])}</h3></div></div>'
        )
    ),
    st.text(max_size=30).map(lambda t: f'<h3 class="text-red">${escape(t)}</h3>'),
)
# Anything at all, including markup that swallows or closes the rest of the page.
_fragments = st.one_of(
    _elements,
    st.sampled_from(
        [
            "<template><p>",
            "<ruby>a<rt>b</rt></ruby>",
            "<!--",
            "<![CDATA[",
            "</body>",
            "<svg><style>",
            "<table><td>",
            "<a href='/new-homes-for-sale/x/'>",
            "\x00",
            "<?xml version='1.0' encoding='latin-1'?>",
            "<" * 50,
            "<div>" * 3000,
        ]
    ),
    st.text(max_size=80),
)


@st.composite
def _pages(draw: st.DrawFn) -> str:
    page = HOMES[draw(st.sampled_from(HOME_SLUGS))]
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(page)))
        action = draw(st.sampled_from(["insert", "insert", "cut", "replace"]))
        if action == "insert":
            page = page[:at] + draw(_fragments) + page[at:]
        else:
            end = min(len(page), at + draw(st.integers(0, 2000)))
            middle = draw(_fragments) if action == "replace" else ""
            page = page[:at] + middle + page[end:]
    if draw(st.booleans()):  # a download cut short, maybe just before the end
        page = page[: draw(st.integers(0, len(page)))]
    return page


# -- checks -----------------------------------------------------------------------------------


def _check_home(home: ParsedHome) -> None:
    assert home.source_id and home.source_url == URL
    for image in home.image_urls:
        assert urlsplit(image).scheme in ("http", "https")
    if home.latitude is not None or home.longitude is not None:
        assert home.latitude is not None and home.longitude is not None
        assert -90 <= home.latitude <= 90 and -180 <= home.longitude <= 180
    for value in (home.source_lastmod, home.page_modified):
        assert value is None or value.utcoffset() is not None
    for number in (home.beds, home.garage, home.sqft):
        assert number is None or number >= 0
    for amount in (home.price, home.baths):
        assert amount is None or (amount.is_finite() and amount >= 0)


def _parse_or_refuse(page: Any) -> ParsedHome | None:
    """The parsed home, or None for a ParseError; any other exception fails the test."""
    try:
        home = parse_home(page, URL)
    except ParseError as exc:
        assert str(exc)
        return None
    _check_home(home)
    return home


@given(_pages())
@example(HOMES[HOME_SLUGS[0]])
@example(HOMES[HOME_SLUGS[0]].replace("<h1", "[" * 100_000 + "<h1"))
@example(
    HOMES[HOME_SLUGS[0]]
    .replace('property="article:modified_time"', 'property="x"')
    .replace("<h1", '<script type="application/ld+json">' + "[" * 100_000 + "</script><h1")
)
def test_mangled_home_pages_parse_or_are_not_understood(page: str) -> None:
    _parse_or_refuse(page)


@given(_pages(), st.sampled_from(["utf-8", "cp1252", "utf-16", "latin-1"]))
def test_mangled_pages_as_bytes(page: str, encoding: str) -> None:
    _parse_or_refuse(page.encode(encoding, "replace"))


@given(_elements, st.sampled_from(["head", "body"]))
@example('<script type="application/ld+json">' + "[" * 100_000 + "</script>", "head")
@example('<div class="gallery"><img srcset="a.jpg ²w"></div>', "body")
@example('<div class="slider"><a href="http://[::1/a.jpg">x</a></div>', "body")
@example('<base href="http://[::1/">', "head")
@example('<meta property="og:image" content="http://[zz]/a.jpg">', "head")
@example('<meta property="article:modified_time" content="0001-01-01T00:00:00+01:00">', "head")
def test_one_hostile_element_in_a_whole_page(fragment: str, where: str) -> None:
    page = HOMES[HOME_SLUGS[0]]
    marker = "</head>" if where == "head" else "</body>"
    home = _parse_or_refuse(page.replace(marker, fragment + marker, 1))
    assert home is not None and home.address == "5127 SW 88th Place"


@given(st.lists(_json_ld, max_size=3))
@example(['{"@type":"WebPage","dateModified":"0001-01-01T00:00:00+01:00"}'])
@example(['{"a":' * 994 + '{"dateModified":"2024-05-01"}' + "}" * 994])
def test_json_ld_dates_never_raise(scripts: list[str]) -> None:
    when = json_ld_date_modified(scripts)
    assert when is None or when.utcoffset() == timedelta(0)


@given(st.text(max_size=3000) | st.binary(max_size=3000))
@example("")
@example("\ufeff")
@example("<html><body>\x00</body></html>")
@example('<?xml version="1.0" encoding="utf-8"?><html><body></body></html>')
def test_any_text_or_bytes(page: str | bytes) -> None:
    _parse_or_refuse(page)


@given(_pages().map(lambda p: p.replace(HOMES[HOME_SLUGS[0]][:0], "")) | st.text(max_size=500))
def test_community_pages_never_raise(page: str) -> None:
    mixed = COMMUNITY[: len(COMMUNITY) // 2] + page + COMMUNITY[len(COMMUNITY) // 2 :]
    community = parse_community(mixed, f"{BASE}/new-home-communities/ocala/x/")
    assert isinstance(community, ParsedCommunity)
    assert all(line and line == line.strip() for line in community.sales_hours)


def test_fixture_homes_still_parse() -> None:
    """The strategies start from pages the parser reads (else every check is vacuous)."""
    for slug in HOME_SLUGS:
        home = parse_home(HOMES[slug], f"{BASE}/new-homes-for-sale/{slug}/")
        assert home.address


_CRAFTED = [
    "",
    "\x00",
    HOMES[HOME_SLUGS[0]][:5000],  # truncated
    HOMES[HOME_SLUGS[0]].replace(
        "</body>",
        '<div class="gallery"><img srcset="/a.jpg 1w, /b.jpg ²w"></div>'
        '<div class="slider"><a href="http://[::1/a.jpg">x</a></div>'
        '<base href="http://[zz]/"><script type="application/ld+json">'
        + "[" * 100_000
        + "</script></body>",
    ),
    HOMES[HOME_SLUGS[1]].replace("<body", "<body><plaintext>"),
]


async def test_the_parser_process_answers_as_parse_home_does() -> None:
    """Large passes parse in a child process: hostile pages give the same home, or the same
    refusal, there (an exception that escaped would have ended the child's answer)."""
    async with ParserProcess() as parse_there:
        for page in _CRAFTED:
            try:
                expected: ParsedHome | str = parse_home(page, URL)
            except ParseError as exc:
                expected = str(exc)
            try:
                got: ParsedHome | str = await parse_there(page, URL)
            except ParseError as exc:
                got = str(exc)
            assert got == expected
    assert isinstance(parse_home(_CRAFTED[3], URL), ParsedHome)  # the hostile one is read
