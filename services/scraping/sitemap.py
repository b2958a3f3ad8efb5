"""Reading the builder's home sitemap (`<sitemapindex>` or `<urlset>`) into home entries."""

from __future__ import annotations

import asyncio
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol
from urllib.parse import urlsplit

from lxml import etree

from services.scraping.fetcher import FetchError, FetchResult, HttpStatusError
from services.scraping.models import CrawlFailure, SitemapEntry

SITEMAP_PATH = "/homes-sitemap.xml"
HOME_PATH_PREFIX = "/new-homes-for-sale/"
_HOME_PATH = re.compile(r"^/+new-homes-for-sale/+([^/]+)/*$", re.IGNORECASE)
_MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SitemapError(Exception):
    """A sitemap document that is not a usable sitemap (not XML, wrong root, bad gzip)."""


class SitemapFetcher(Protocol):
    """What the sitemap reader needs from a fetcher (PoliteFetcher provides it)."""

    async def fetch(self, url: str, *, conditional: bool = False) -> FetchResult: ...


@dataclass(frozen=True)
class SitemapDocument:
    """One parsed sitemap file: its kind and its (loc, raw lastmod) pairs in file order."""

    kind: Literal["index", "urlset"]
    locs: list[tuple[str, str | None]]


@dataclass(frozen=True)
class SitemapRead:
    """Every home found; `ok` is false when any sitemap document failed (entries partial)."""

    entries: list[SitemapEntry]
    ok: bool
    failures: list[CrawlFailure] = field(default_factory=list)
    documents: int = 0


def parse_lastmod(text: str | None) -> datetime | None:
    """A W3C datetime (`2024-05-02`, `2024-05-02T14:03:11+00:00`, `…Z`) as aware UTC."""
    if not text:
        return None
    value = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        for fmt in ("%Y-%m", "%Y"):
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 falls before year 1 in UTC
        return None


def _bare_host(netloc: str, scheme: str) -> str:
    host = netloc.lower().rsplit("@", 1)[-1]
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and host.endswith(f":{default}"):
        host = host[: -len(f":{default}")]
    return host.removeprefix("www.")


def same_site(url: str, base_url: str) -> bool:
    """Whether `url` is on the base site, counting `www.` and the bare host as one."""
    try:
        parts, base = urlsplit(url), urlsplit(base_url)
    except ValueError:  # an unparseable host such as "[::1": not a page of any site
        return False
    if parts.scheme not in ("http", "https"):
        return False
    return _bare_host(parts.netloc, parts.scheme) == _bare_host(base.netloc, base.scheme)


def on_base_host(url: str, base_url: str) -> str:
    """`url` moved to the base URL's scheme and host (for www/bare and http/https twins)."""
    parts, base = urlsplit(url.strip()), urlsplit(base_url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base.scheme}://{base.netloc}{parts.path or '/'}{query}"


def source_id_from_url(url: str) -> str | None:
    """The home's slug from a `/new-homes-for-sale/<slug>/` URL, lower-cased; else None."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:  # an unparseable host such as "[::1"
        return None
    match = _HOME_PATH.match(path)
    return match.group(1).lower() if match else None


def normalize_home_url(url: str, base_url: str) -> str | None:
    """The canonical URL of a home on the base site, or None for anything else.

    Drops query and fragment, keeps one trailing slash, and puts the home on the base
    URL's scheme and host (`www.` and bare host are the same site).
    """
    if not same_site(url.strip(), base_url):
        return None
    slug = source_id_from_url(url)
    if slug is None:
        return None
    base = urlsplit(base_url)
    return f"{base.scheme}://{base.netloc}{HOME_PATH_PREFIX}{slug}/"


def _ungzip(body: bytes) -> bytes:
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = decompressor.decompress(body, _MAX_SITEMAP_BYTES)
    except zlib.error as exc:
        raise SitemapError(f"not a valid gzip file ({exc})") from exc
    if decompressor.unconsumed_tail:
        raise SitemapError("larger than 50 MB once decompressed")
    if not decompressor.eof:
        raise SitemapError("not a complete gzip file (truncated)")
    return data


def _localname(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def parse_sitemap_xml(body: bytes) -> SitemapDocument:
    """Parse a sitemap file (plain or gzipped). Raises `SitemapError` for anything else."""
    if body[:2] == b"\x1f\x8b":
        body = _ungzip(body)
    body = body.lstrip()
    if not body:
        raise SitemapError("empty response instead of a sitemap")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SitemapError(f"not valid XML ({exc.msg})") from exc
    kind_name = _localname(root)
    if kind_name == "sitemapindex":
        kind: Literal["index", "urlset"] = "index"
        item_name = "sitemap"
    elif kind_name == "urlset":
        kind = "urlset"
        item_name = "url"
    else:
        raise SitemapError(f"XML but not a sitemap (root element <{kind_name or '?'}>)")
    locs: list[tuple[str, str | None]] = []
    for item in root:
        if _localname(item) != item_name:
            continue
        loc: str | None = None
        lastmod: str | None = None
        for child in item:
            name = _localname(child)
            if name == "loc" and child.text:
                loc = child.text.strip()
            elif name == "lastmod" and child.text:
                lastmod = child.text.strip()
        if loc:
            locs.append((loc, lastmod))
    return SitemapDocument(kind=kind, locs=locs)


def home_entries(locs: list[tuple[str, str | None]], base_url: str) -> list[SitemapEntry]:
    """Keep the home URLs of the base site, normalised; one entry per slug (latest lastmod)."""
    by_id: dict[str, SitemapEntry] = {}
    for loc, raw_lastmod in locs:
        url = normalize_home_url(loc, base_url)
        if url is None:
            continue
        source_id = source_id_from_url(url)
        assert source_id is not None  # normalize_home_url only returns home URLs
        entry = SitemapEntry(url=url, source_id=source_id, lastmod=parse_lastmod(raw_lastmod))
        known = by_id.get(source_id)
        if known is None or _later(entry.lastmod, known.lastmod):
            by_id[source_id] = entry
    return list(by_id.values())


def _later(new: datetime | None, old: datetime | None) -> bool:
    return new is not None and (old is None or new > old)


async def _load(fetcher: SitemapFetcher, url: str) -> SitemapDocument:
    result = await fetcher.fetch(url, conditional=True)
    return parse_sitemap_xml(result.body)


async def read_sitemap(fetcher: SitemapFetcher, base_url: str) -> SitemapRead:
    """Read `{base_url}/homes-sitemap.xml`, following a sitemap index one level down.

    Never raises for a bad sitemap: failures come back in `SitemapRead.failures` with
    `ok=False`, and `entries` then holds what the documents that did load listed.
    """
    base = base_url.rstrip("/")
    url = f"{base}{SITEMAP_PATH}"
    try:
        document = await _load(fetcher, url)
    except (FetchError, SitemapError) as exc:
        return SitemapRead(entries=[], ok=False, failures=[_failure(url, exc)], documents=1)
    if document.kind == "urlset":
        return SitemapRead(entries=home_entries(document.locs, base), ok=True, documents=1)

    children = [on_base_host(loc, base) for loc, _ in document.locs if same_site(loc, base)]
    children = list(dict.fromkeys(children))
    loaded = await asyncio.gather(
        *(_load(fetcher, child) for child in children), return_exceptions=True
    )
    locs: list[tuple[str, str | None]] = []
    failures: list[CrawlFailure] = []
    for child, outcome in zip(children, loaded, strict=True):
        if isinstance(outcome, FetchError | SitemapError):
            failures.append(_failure(child, outcome))
        elif isinstance(outcome, BaseException):
            raise outcome
        elif outcome.kind == "index":
            failures.append(CrawlFailure(child, "sitemap index nested in a sitemap index"))
        else:
            locs.extend(outcome.locs)
    return SitemapRead(
        entries=home_entries(locs, base),
        ok=not failures,
        failures=failures,
        documents=1 + len(children),
    )


def _failure(url: str, exc: Exception) -> CrawlFailure:
    reason = exc.reason if isinstance(exc, FetchError) else str(exc)
    status = exc.status if isinstance(exc, HttpStatusError) else None
    return CrawlFailure(url, f"sitemap unusable: {reason}", status)
