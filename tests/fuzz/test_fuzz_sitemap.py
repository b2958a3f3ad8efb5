"""Fuzz the sitemap reader (services/scraping/sitemap.py).

Any body the builder's server (or anyone in between) sends is refused with a SitemapError
or parsed into home entries of the base site, quickly: entity expansion, external entities
and DTDs, deep nesting, gzip bombs and huge documents included. `read_sitemap` never
raises for a bad sitemap.
"""

from __future__ import annotations

import asyncio
import gzip
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.scraping.fetcher import FetchResult, HttpStatusError
from services.scraping.sitemap import (
    HOME_PATH_PREFIX,
    SITEMAP_PATH,
    SitemapDocument,
    SitemapError,
    SitemapRead,
    home_entries,
    parse_sitemap_xml,
    read_sitemap,
)

BASE = "https://holidaybuilders.com"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
# A crafted document must be refused or read in well under this, on a busy machine.
BOUND = timedelta(seconds=5)

# -- crafted hostile documents ----------------------------------------------------------------


def _laughs(levels: int = 10, fan: int = 10) -> bytes:
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * fan}">' for i in range(1, levels)
    ]
    return (
        f'<?xml version="1.0"?><!DOCTYPE urlset [{"".join(entities)}]>'
        f"<urlset {NS}><url><loc>&l{levels - 1};</loc></url></urlset>"
    ).encode()


_QUADRATIC = (
    f'<!DOCTYPE urlset [<!ENTITY a "{"x" * 50_000}">]><urlset {NS}><url><loc>'
    + "&a;" * 50_000
    + "</loc></url></urlset>"
).encode()
_DEEP = (f"<urlset {NS}>" + "<url>" * 50_000 + "</url>" * 50_000 + "</urlset>").encode()
_GZIP_BOMB = gzip.compress(b" " * (51 * 1024 * 1024), compresslevel=1)
_HUGE = (
    f"<urlset {NS}>"
    + "".join(
        f"<url><loc>{BASE}/new-homes-for-sale/home-{i}/</loc><lastmod>2024-01-01</lastmod></url>"
        for i in range(50_000)
    )
    + "</urlset>"
).encode()
_REMOTE_DTD = (
    f'<!DOCTYPE urlset SYSTEM "http://127.0.0.1:9/x.dtd"><urlset {NS}><url>'
    f"<loc>{BASE}/new-homes-for-sale/a/</loc></url></urlset>"
).encode()


def _xxe(path: Path) -> list[bytes]:
    """External entities, parameter entities and an external DTD naming a local file."""
    uri = path.as_uri()
    loc = f"{BASE}/new-homes-for-sale/&x;/"
    return [
        (
            f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "{uri}">]>'
            f"<urlset {NS}><url><loc>{loc}</loc></url></urlset>"
        ).encode(),
        (
            f'<!DOCTYPE urlset [<!ENTITY % p SYSTEM "{uri}"> %p;]>'
            f"<urlset {NS}><url><loc>{BASE}/new-homes-for-sale/a/</loc></url></urlset>"
        ).encode(),
        (
            f'<!DOCTYPE urlset SYSTEM "{uri}">'
            f"<urlset {NS}><url><loc>{BASE}/new-homes-for-sale/a/</loc></url></urlset>"
        ).encode(),
        (
            f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "{uri}">]>'
            f"<urlset {NS}><url><loc>{BASE}/new-homes-for-sale/a/</loc>"
            "<lastmod>&x;</lastmod></url></urlset>"
        ).encode(),
    ]


# -- generated documents ----------------------------------------------------------------------

_HOSTS = st.sampled_from(
    [
        "holidaybuilders.com",
        "www.holidaybuilders.com",
        "HolidayBuilders.com:443",
        "user@holidaybuilders.com",
        "evil.test",
        "[::1]",
        "[::1",
        "[zz]",
        "xn--nxasmq6b.com",
        "bücher.de",
        "",
    ]
)
_SLUGS = st.text(max_size=20) | st.sampled_from(["the-oak-1842", "A", "x/y", "%2F", ".."])
_locs = st.builds(
    lambda scheme, host, prefix, slug, tail: f"{scheme}{host}{prefix}{slug}{tail}",
    st.sampled_from(["https://", "http://", "ftp://", "//", ""]),
    _HOSTS,
    st.sampled_from([HOME_PATH_PREFIX, "/new-homes-for-sale//", "/NEW-HOMES-FOR-SALE/", "/"]),
    _SLUGS,
    st.sampled_from(["/", "", "//", "/?a=1#f", "/extra/"]),
) | st.text(max_size=60)
_lastmods = (
    st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat())
    | st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "0001-01-01",
            "2024",
            "2024-13",
            "2024-05-02T25:00:00Z",
            " 2024-05-02 ",
        ]
    )
    | st.text(max_size=30)
)
# Text XML accepts (control characters and lone surrogates make the document invalid,
# which the binary test covers).
_xml_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=60,
)


def _item(item: str, loc: str | None, lastmod: str | None, junk: str) -> str:
    parts = [f"<loc>{xml_escape(loc)}</loc>" if loc is not None else ""]
    if lastmod is not None:
        parts.append(f"<lastmod>{xml_escape(lastmod)}</lastmod>")
    if junk:
        parts.append(f"<note>{xml_escape(junk)}</note>")
    return f"<{item}>{''.join(parts)}</{item}>"


@st.composite
def _documents(draw: st.DrawFn) -> bytes:
    root, item = draw(
        st.sampled_from([("urlset", "url"), ("sitemapindex", "sitemap"), ("rss", "item")])
    )
    items = draw(
        st.lists(
            st.builds(_item, st.just(item), st.none() | _locs, st.none() | _lastmods, _xml_text),
            max_size=8,
        )
    )
    prolog = draw(
        st.sampled_from(
            [
                "",
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<?xml version="1.0" encoding="ISO-8859-1"?>',
                '<!DOCTYPE urlset [<!ENTITY e "x">]>',
                "<!-- comment -->",
                "\n  ",
            ]
        )
    )
    namespace = draw(st.sampled_from([NS, "", 'xmlns="urn:other"', 'xmlns:s="urn:x"']))
    text = f"{prolog}<{root} {namespace}>{''.join(items)}</{root}>"
    body = text.encode("utf-8", "surrogatepass")
    cut = draw(st.none() | st.integers(0, len(body)))  # a truncated download
    if cut is not None:
        body = body[:cut]
    return gzip.compress(body) if draw(st.booleans()) else body


# -- checks -----------------------------------------------------------------------------------


def _read_or_refuse(body: bytes) -> SitemapDocument | None:
    """Parse `body` and read its homes; None when refused. Anything else fails the test."""
    try:
        document = parse_sitemap_xml(body)
    except SitemapError as exc:
        assert str(exc)  # the reason is what the crawl report shows
        return None
    assert document.kind in ("index", "urlset")
    entries = home_entries(document.locs, BASE)
    for entry in entries:
        assert entry.url == f"{BASE}{HOME_PATH_PREFIX}{entry.source_id}/"
        assert entry.lastmod is None or entry.lastmod.utcoffset() == timedelta(0)
    assert len({e.source_id for e in entries}) == len(entries)
    return document


@settings(deadline=BOUND)
@given(_documents())
@example(_laughs())
@example(_laughs(levels=30, fan=2))
@example(_QUADRATIC)
@example(_DEEP)
@example(_GZIP_BOMB)
@example(_HUGE)
@example(_REMOTE_DTD)
@example(b'<?xml version="1.0" encoding="x-nope"?><urlset/>')
@example('<?xml version="1.0" encoding="utf-16"?><urlset/>'.encode("utf-16"))
def test_generated_sitemaps_are_read_or_refused(body: bytes) -> None:
    _read_or_refuse(body)


@settings(deadline=BOUND)
@given(st.binary(max_size=2000))
@example(b"\x1f\x8b")
@example(gzip.compress(b"<urlset/>")[:-3])
@example(gzip.compress(b"<urlset/>") + b"trailing")
@example(b"\xef\xbb\xbf<urlset/>")
@example(b"\x00" * 10)
def test_any_bytes_are_read_or_refused(body: bytes) -> None:
    _read_or_refuse(body)


def test_local_files_never_leak_into_the_sitemap(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("new-homes-for-sale SECRET-7f3a")
    for body in _xxe(secret):
        document = _read_or_refuse(body)
        if document is not None:
            assert "SECRET" not in repr(document.locs)


class _Site:
    """A fetcher serving generated sitemaps: the index (or urlset) and its children."""

    def __init__(self, root: bytes, children: dict[str, bytes | int]) -> None:
        self._bodies: dict[str, bytes | int] = {f"{BASE}{SITEMAP_PATH}": root, **children}

    async def fetch(self, url: str, *, conditional: bool = False) -> FetchResult:
        body = self._bodies.get(url, 404)
        if isinstance(body, int):
            raise HttpStatusError(url, body)
        return FetchResult(url, url, 200, body, "application/xml", None)


_CHILD_URLS = st.sampled_from(
    [f"{BASE}/homes-sitemap{i}.xml" for i in range(3)] + ["https://www.holidaybuilders.com/x.xml"]
)


@settings(deadline=BOUND)
@given(
    st.lists(st.tuples(_CHILD_URLS, st.none() | _lastmods), max_size=4),
    st.lists(_locs, max_size=4),
    st.dictionaries(_CHILD_URLS, _documents() | st.sampled_from([404, 500])),
)
def test_read_sitemap_never_raises(
    index: list[tuple[str, str | None]],
    extra_locs: list[str],
    children: dict[str, bytes | int],
) -> None:
    items = [_item("sitemap", loc, lastmod, "") for loc, lastmod in index]
    items += [_item("sitemap", loc, None, "") for loc in extra_locs]
    root = f"<sitemapindex {NS}>{''.join(items)}</sitemapindex>".encode()
    read = asyncio.run(read_sitemap(_Site(root, children), BASE))
    assert isinstance(read, SitemapRead)
    assert read.ok == (not read.failures)
    for entry in read.entries:
        assert entry.url.startswith(f"{BASE}{HOME_PATH_PREFIX}")
