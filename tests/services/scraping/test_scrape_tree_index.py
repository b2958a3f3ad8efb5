"""CSS selection over an indexed lxml tree: the subset the parser uses, soupsieve's meaning."""

from __future__ import annotations

import pytest
from lxml import etree

from services.scraping.tree_index import SelectorIndex

PAGE = """<html><head>
<meta property="og:image" content="/a.jpg"><script type="Application/LD+JSON">{}</script>
</head><body>
<div class="outer box"><p id="p1">one</p>
  <div class="inner  box" style="max-height: 150px"><p id="p2">two</p>
    <div class="inner"><p id="p3">three</p></div></div>
  <p id="p4">four</p></div>
<div class="box\u00a0wide"><span class="x x">five</span></div>
<div class="Box"><p id="p5">six</p></div>
</body></html><p id="p6">after the end</p>"""


def _ids(selector: str) -> list[str | None]:
    index = SelectorIndex()
    compiled = index.css(selector)
    page = index.index(etree.fromstring(PAGE, etree.HTMLParser()))
    return [el.get("id") or el.text for el in compiled.select(page)]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("p", ["p1", "p2", "p3", "p4", "p5", "p6"]),
        ("div.box p", ["p1", "p2", "p3", "p4"]),  # class tokens, any whitespace, case-sensitive
        ("div.inner p", ["p2", "p3"]),  # nested anchors: each match once, in order
        ("div.outer div.inner > p", ["p2", "p3"]),
        ("div.outer > p", ["p1", "p4"]),
        ('div.inner[style*="150px"] p', ["p2", "p3"]),
        ("div.wide span", ["five"]),  # a no-break space separates class names too
        ("span.x", ["five"]),  # `class="x x"` once
        ("p#p3, p#p1, div.inner > p", ["p1", "p2", "p3"]),  # lists merge in document order
        ('script[type="application/ld+json"]', ["{}"]),  # `type` compares case-insensitively
        ('meta[property="OG:IMAGE"]', []),  # other attributes do not
        ("[content]", [None]),
        ("div.Box p", ["p5"]),
    ],
)
def test_selectors_match_as_css_says(selector: str, expected: list[str | None]) -> None:
    assert _ids(selector) == expected


@pytest.mark.parametrize(
    "selector",
    ["div > p span", "p:first-child", "a[href^=x]", "div + p", "div ~ p", "> p", ""],
)
def test_selectors_outside_the_subset_are_refused(selector: str) -> None:
    with pytest.raises(ValueError, match="unsupported selector"):
        SelectorIndex().css(selector)


def test_an_empty_page_matches_nothing() -> None:
    index = SelectorIndex()
    selector = index.css("div.box p, [data-src]")
    page = index.index(None)
    assert selector.select(page) == [] and selector.first(page) is None
