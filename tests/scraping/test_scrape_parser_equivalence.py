"""The lxml parser against the BeautifulSoup parser it replaces: identical results.

Every fixture page, the builder site's generated homes, and pages varied by hypothesis
(snippets inserted anywhere, pieces cut or repeated, markup details changed) must give
the same `ParsedHome` / `ParsedCommunity`, or the same error, from both parsers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scraping import lxml_parser
from services.scraping import parser as soup_parser
from tests.fakes.builder_site import HOME_SLUGS, FakeBuilderSite, fixture, home_fixture

BASE = "https://holidaybuilders.com"
COMMUNITY_URL = f"{BASE}/new-home-communities/ocala/oak-hammock-preserve/"

# Markup the live site has, might grow, or that a broken page could hold.
SNIPPETS = (
    "<!-- note -->",
    "<!-- <p>commented out</p> -->",
    "<script>var s = '<p>not text</p>';</script>",
    '<script type="Application/LD+JSON">{"@type":"WebPage","dateModified":"2023-02-01"}</script>',
    '<script type="application/ld+json">{"dateModified": "2022-01-01",}</script>',
    "<style>p { color: red }</style>",
    "<template><p>template text</p><span>Beds</span></template>",
    "<ruby>kan<rt>ka</rt><rp>(</rp>ji</ruby>",
    "&nbsp;",
    "&amp;",
    "&#8217;",
    "\u00a0",
    "\u2003",
    "\r\n",
    "\t",
    "\x00",
    "<?php echo 1; ?>",
    "<![CDATA[x]]>",
    "<br>",
    "<br/>",
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "</span>",
    "<span>Baths</span>",
    "<b>",
    "</b>",
    "<table><tr><td>",
    "</td></tr></table>",
    "<ul><li>",
    "<del>$319,990</del> ",
    "<s>$300,000</s>",
    "<strike>was</strike>",
    "Call for pricing",
    '<h3 class="text-red">$1,234,500</h3>',
    '<h3 class="text-red uk-margin-remove">From the $300s</h3>',
    '<a href="/new-homes-for-sale/another-home/">',
    '<a href="/new-home-communities/ocala/other/">',
    "</a>",
    '<a class="google-map-link" href="#"><h2 class="text-blue">1 Main St</h2></a>',
    '<h5 class="text-light-gray">Tampa FL 33601</h5>',
    '<img src="/wp-content/uploads/2024/05/extra-300x200.jpg" alt="">',
    '<img src="/wp-content/uploads/2024/05/extra.jpg">',
    '<img src="/wp-content/themes/x/images/site-logo.png">',
    '<img data-src="/wp-content/uploads/lazy.webp" src="data:image/gif;base64,R0lGOD">',
    '<img srcset="/a-640x480.jpg 640w, /a-1280x960.jpg 1280w" src="/a.jpg">',
    '<img data-srcset="/b.jpg 1x, /b@2x.jpg 2x">',
    '<source srcset="/c.avif 2x, /c-small.avif 1x">',
    '<a href="/wp-content/uploads/2024/05/big-photo.JPG">',
    '<a href="http://[bad-host/x">',
    '<a href="/photo\n.jpg">',
    '<div class="gallery-wrap">',
    '<div class="Photos">',
    "<div uk-lightbox>",
    "<div uk-slider>",
    "<header>",
    "</header>",
    "<footer>",
    "<nav>",
    "<aside>",
    '<base href="https://cdn.example.com/site/">',
    '<meta property="og:image" content="/og-image.jpg">',
    '<meta property="og:image:secure_url" content="https://holidaybuilders.com/og-2.png">',
    '<meta property="og:updated_time" content="2024-06-01T08:00:00Z">',
    '<meta property="article:modified_time" content="not a date">',
    '<div data-lat="27.5" data-lng="-80.4"></div>',
    '<div class="marker" data-lat="0" data-lng="0"></div>',
    '<div id="map"><div class="marker" data-lat="91" data-lng="10"></div></div>',
    '<i class="fas fa-clock"></i>',
    '<div class="uk-position-relative"><div class="uk-position-bottom-center">Sold Out</div>',
    '<div class="uk-position-bottom-center">Coming Soon</div>',
    '<div class="background-gray-blue uk-padding-small"><div class="uk-flex uk-flex-center">'
    "<h3>1</h3><span>Half Bath</span></div></div>",
    '<div class="font-secondary font15 lh1">Value</div><div>Label</div>',
    '<div class="uk-overflow-auto"><p>Loose community text.</p></div>',
    '<p id="breadcrumbs"><a href="/new-home-markets/tampa/">Tampa, FL</a></p>',
    '<div class="breadcrumb"><a href="/new-home-communities/x/">Other Place</a></div>',
    '<h1 class="text-blue font-tertiary">The <span>Key West</span></h1>',
    '<h2 class="text-blue title">Homes for sale in Lakewood Ranch</h2>',
    "</body>",
    "</html>",
    "<body>",
    "<html>",
    "<head>",
    "<title>",
    "<textarea>",
    "<noscript><p>no script</p></noscript>",
    "<svg><title>t</title><path d='M0'/></svg>",
    "<select><option>1</option>",
    "<form>",
    "<button>",
)
# Markup details a theme update could change.
REWRITES = (
    ('class="', 'class=" '),
    ('class="', 'class="\t'),
    ("uk-flex uk-flex-center", "uk-flex-center\u00a0uk-flex"),
    ("uk-flex uk-flex-center", "uk-flex uk-flex-center uk-flex-center"),
    ("text-ligh-gray", "text-light-gray"),
    ("text-ligh-gray", "TEXT-LIGH-GRAY"),
    ("<h3", "<H3"),
    ("<span>", "<SPAN CLASS=x>"),
    ("Beds", "Bedrooms"),
    ("Baths", "Bath(s)"),
    ("Sq Ft", "SQ. FT."),
    ("Car", "Car Garage"),
    ("Move In Ready", "Sold Out"),
    ("Move In Ready", "Under Construction"),
    ("Ocala, FL 34476", "Ocala, Florida"),
    ("Ocala, FL 34476", ", FL 34476"),
    ("$289,990", "Was $299,990 Now $289,990"),
    ("$289,990", "<del>$299,990</del> $289,990"),
    ("$289,990", "$289,990K"),
    ('data-lat="29.1097"', 'data-lat=" 29.1 "'),
    ('data-lat="29.1097"', 'data-lat="north"'),
    ('style="max-height: 150px;"', 'style="max-height: 200px;"'),
    ('"dateModified":"', '"dateModified": "'),
    ('property="article:modified_time"', 'property="article:published_time"'),
    ("</p>", "</p><!-- end -->"),
    ("<p>", "<p> "),
    ("</body>", ""),
    ("</html>", ""),
    ("<br>", "<br/><br>"),
    ("&ndash;", "-"),
    ('uk-slideshow="', 'data-x="'),
    ("uk-position-relative", "uk-position-relative uk-card"),
    ('id="overview"', 'id="overview-2"'),
    ('id="breadcrumbs"', 'class="breadcrumb"'),
)


def _outcome(parse: Callable[[str, str], Any], page: str, url: str) -> tuple[str, ...]:
    try:
        return ("parsed", repr(dataclasses.asdict(parse(page, url))))
    except Exception as exc:  # both parsers must fail alike too
        return ("raised", type(exc).__name__, str(exc))


def _assert_same(page: str, url: str) -> None:
    old = _outcome(soup_parser.parse_home, page, url)
    new = _outcome(lxml_parser.parse_home, page, url)
    assert new == old, _first_difference(new, old)


def _assert_same_community(page: str) -> None:
    old = _outcome(soup_parser.parse_community, page, COMMUNITY_URL)
    new = _outcome(lxml_parser.parse_community, page, COMMUNITY_URL)
    assert new == old, _first_difference(new, old)


def _first_difference(new: tuple[str, ...], old: tuple[str, ...]) -> str:
    """Where the two outcomes part (the whole repr of both would be pages long)."""
    a, b = repr(new), repr(old)
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return (
        f"lxml: ...{a[max(0, at - 80) : at + 120]}...\nsoup: ...{b[max(0, at - 80) : at + 120]}..."
    )


def _url(slug: str) -> str:
    return f"{BASE}/new-homes-for-sale/{slug}/"


@pytest.mark.parametrize("slug", HOME_SLUGS)
def test_every_fixture_home_parses_the_same(slug: str) -> None:
    page = home_fixture(slug, BASE)
    _assert_same(page, _url(slug))
    # Bytes go through the same decoding in both.
    old = soup_parser.parse_home(page.encode("windows-1252", "replace"), _url(slug))
    assert lxml_parser.parse_home(page.encode("windows-1252", "replace"), _url(slug)) == old


def test_community_and_other_pages_parse_the_same() -> None:
    _assert_same_community(fixture("communities/oak-hammock-preserve.html", BASE))
    _assert_same(fixture("communities/oak-hammock-preserve.html", BASE), COMMUNITY_URL)
    _assert_same(fixture("not-found.html", BASE), _url("gone"))
    _assert_same_community(fixture("not-found.html", BASE))


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "</html>",
        "<!-- x --></html>",
        "\x00</html>",
        "\ufeff<html><body></body></html>",
        '<?xml version="1.0" encoding="utf-8"?><html><body><a class="google-map-link">'
        '<h2 class="text-blue">1 Main St</h2></a></body></html>',
        "<html><body>hello</body></html>",
        "%PDF-1.7 </body>",
    ],
)
def test_junk_is_handled_the_same(junk: str) -> None:
    _assert_same(junk, _url("junk"))
    _assert_same_community(junk)


def test_generated_homes_parse_the_same() -> None:
    site = FakeBuilderSite(include_fixtures=False)
    site.base_url = "http://127.0.0.1:8080"
    for slug in site.add_synthetic_homes(150):
        _assert_same(site.page_bytes(slug).decode(), site.home_url(slug))


@st.composite
def varied_page(draw: st.DrawFn, pages: tuple[str, ...]) -> str:
    """A page with a few random edits: snippets in, pieces out or doubled, details changed."""
    page = draw(st.sampled_from(pages))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(("insert", "insert", "rewrite", "cut", "repeat")))
        at = draw(st.integers(0, len(page)))
        if kind == "insert":
            page = page[:at] + draw(st.sampled_from(SNIPPETS)) + page[at:]
        elif kind == "rewrite":
            old, new = draw(st.sampled_from(REWRITES))
            page = page.replace(old, new, draw(st.sampled_from((1, -1))))
        else:
            length = draw(st.integers(1, 400))
            piece = page[at : at + length]
            page = page[:at] + (piece * 2 if kind == "repeat" else "") + page[at + length :]
    return page


_HOME_PAGES = tuple(home_fixture(slug, BASE) for slug in HOME_SLUGS)
_COMMUNITY_PAGES = (fixture("communities/oak-hammock-preserve.html", BASE),)
_VARIED = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here is never a fluke
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_VARIED
@given(page=varied_page(_HOME_PAGES), slug=st.sampled_from(HOME_SLUGS))
def test_varied_home_pages_parse_the_same(page: str, slug: str) -> None:
    _assert_same(page, _url(slug))


@_VARIED
@given(page=varied_page(_COMMUNITY_PAGES))
def test_varied_community_pages_parse_the_same(page: str) -> None:
    _assert_same_community(page)
