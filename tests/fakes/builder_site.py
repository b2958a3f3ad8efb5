"""A local stand-in for holidaybuilders.com, serving tests/fixtures/site/ over real HTTP.

Pages are templates: `{{BASE}}`, `{{WWW_BASE}}` and `{{HOST}}` become the fake's own
address, `{{HEAD}}`, `{{HEADER}}` and `{{FOOTER}}` the shared WordPress chrome.
The sitemap is rendered from live state, so tests can change lastmods and prices,
remove homes, add thousands of synthetic homes, and inject faults per path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Literal

from aiohttp import web
from lxml import etree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "site"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"

HOME_SLUGS: tuple[str, ...] = (
    "5127-sw-88th-place-ocala",
    "10421-sw-cabernet-drive-port-st-lucie",
    "1482-heron-bay-lane-palm-bay",
    "6230-bluewater-drive-milton",
    "2214-amelia-bluff-court-jacksonville",
    "918-nw-14th-terrace-cape-coral",
    "3305-sandhill-crane-road-lehigh-acres",
)
COMMUNITY_PATH = "/new-home-communities/ocala/oak-hammock-preserve/"
SYNTHETIC_TEMPLATE = "5127-sw-88th-place-ocala"

FaultKind = Literal[
    "status",  # answer `status` (with Retry-After if given)
    "truncate",  # 200 with the first `fraction` of the page
    "disconnect",  # declare the full length, send part, drop the connection
    "enormous",  # stream `size` bytes of HTML without a Content-Length
    "redirect_loop",  # 301 to a page that 301s back
    "redirect",  # 302 to `location` (any URL, e.g. another host)
    "non_utf8",  # the page encoded as Windows-1252 but labelled UTF-8
    "not_xml",  # an HTML maintenance page where XML was expected
    "slow",  # wait `delay` seconds, then answer normally
]


@functools.lru_cache(maxsize=64)
def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def www_of(base_url: str) -> str:
    """The `www.` twin of a base URL."""
    scheme, rest = base_url.split("://", 1)
    return f"{scheme}://www.{rest}"


def render(template: str, base_url: str) -> str:
    """Fill a fixture template for a site at `base_url`."""
    base_url = base_url.rstrip("/")
    text = (
        template.replace("{{HEAD}}", _read("_head.html"))
        .replace("{{HEADER}}", _read("_header.html"))
        .replace("{{FOOTER}}", _read("_footer.html"))
    )
    return (
        text.replace("{{WWW_BASE}}", www_of(base_url))
        .replace("{{BASE}}", base_url)
        .replace("{{HOST}}", base_url.split("://", 1)[1])
    )


def fixture(name: str, base_url: str) -> str:
    """A rendered fixture file, e.g. `fixture("homes/<slug>.html", base)`."""
    return render(_read(name), base_url)


def home_fixture(slug: str, base_url: str) -> str:
    """A rendered fixture home page."""
    return fixture(f"homes/{slug}.html", base_url)


def home_path(slug: str) -> str:
    """The site path of a home."""
    return f"/new-homes-for-sale/{slug}/"


@dataclass
class Fault:
    """A misbehaviour injected on one path; `times=None` means every time."""

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    times: int | None = None
    fraction: float = 0.5
    size: int = 6 * 1024 * 1024
    delay: float = 0.0
    location: str = ""


@dataclass
class SitemapItem:
    """One `<url>` of the sitemap: `loc` may hold template placeholders."""

    loc: str
    lastmod: str | None


@dataclass
class RecordedRequest:
    """What the fake saw of one request."""

    path: str
    query: str
    headers: dict[str, str]


@dataclass
class _State:
    pages: dict[str, str] = field(default_factory=dict)  # slug → template
    items: list[SitemapItem] = field(default_factory=list)
    faults: dict[str, Fault] = field(default_factory=dict)
    robots: str | None = None


class FakeBuilderSite:
    """The fake site. `async with FakeBuilderSite() as site:` then use `site.base_url`."""

    def __init__(
        self,
        *,
        sitemap_mode: Literal["index", "urlset"] = "index",
        per_sitemap: int = 1000,
        etag: bool = True,
        last_modified: bool = True,
        latency: float = 0.0,
        include_fixtures: bool = True,
    ) -> None:
        self.sitemap_mode = sitemap_mode
        self.per_sitemap = per_sitemap
        self.etag = etag
        self.last_modified = last_modified
        self.latency = latency
        self.hits: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.base_url = ""
        self._state = _State(robots=_read("robots.txt"))
        self._rendered: dict[str, bytes] = {}
        self._runner: web.AppRunner | None = None
        if include_fixtures:
            self._load_fixtures()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on 127.0.0.1 (random free port); returns the base URL."""
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBuilderSite:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- hooks -------------------------------------------------------------------------------

    def home_url(self, slug: str) -> str:
        """The canonical URL of a home on this fake."""
        return f"{self.base_url}{home_path(slug)}"

    def slugs(self) -> list[str]:
        """Slugs of the homes currently listed in the sitemap (order of first listing)."""
        found: dict[str, None] = {}
        for item in self._state.items:
            match = re.search(r"/new-homes-for-sale/([^/?#]+)", item.loc)
            if match and match.group(1) in self._state.pages:
                found[match.group(1)] = None
        return list(found)

    def page_bytes(self, slug: str) -> bytes:
        """The exact bytes served for a home page."""
        body = self._page(slug)
        assert body is not None, f"no page for {slug}"
        return body

    def lastmod(self, slug: str) -> str | None:
        """The raw <lastmod> of a home."""
        return next((i.lastmod for i in self._items_of(slug)), None)

    def set_lastmod(self, slug: str, value: datetime | str | None) -> None:
        """Change a home's <lastmod> (None removes it)."""
        text = value.isoformat() if isinstance(value, datetime) else value
        for item in self._items_of(slug):
            item.lastmod = text

    def touch(self, slug: str, minutes: int = 5) -> str:
        """Move a home's lastmod `minutes` later; returns the new value."""
        current = self.lastmod(slug) or "2024-01-01T00:00:00+00:00"
        parsed = datetime.fromisoformat(current)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        new = (parsed + timedelta(minutes=minutes)).astimezone(UTC).isoformat()
        self.set_lastmod(slug, new)
        return new

    def set_price(self, slug: str, price_text: str, *, touch: bool = True) -> None:
        """Replace the price shown on a home page (and move its lastmod unless told not to)."""
        template = self._state.pages[slug]
        new, count = re.subn(
            r'(<h3 class="text-red[^"]*">)(.*?)(</h3>)',
            lambda m: f"{m.group(1)}{price_text}{m.group(3)}",
            template,
            count=1,
        )
        assert count == 1, f"no price element on {slug}"
        self._state.pages[slug] = new
        self._rendered.pop(slug, None)
        if touch:
            self.touch(slug)

    def remove_home(self, slug: str, *, page_too: bool = False) -> None:
        """Take a home out of the sitemap (and make its page 404 if `page_too`)."""
        self._state.items = [i for i in self._state.items if i not in self._items_of(slug)]
        if page_too:
            self._state.pages.pop(slug, None)
            self._rendered.pop(slug, None)

    def add_home(self, slug: str, template: str, lastmod: str | None) -> None:
        """List a new home with the given page template."""
        self._state.pages[slug] = template
        self._state.items.append(SitemapItem(f"{{{{BASE}}}}{home_path(slug)}", lastmod))

    def add_synthetic_homes(self, count: int, *, start: int = 0) -> list[str]:
        """Add `count` realistic homes cloned from a fixture with varied facts."""
        template = self._state.pages.get(SYNTHETIC_TEMPLATE) or _read(
            f"homes/{SYNTHETIC_TEMPLATE}.html"
        )
        epoch = datetime(2024, 1, 1, tzinfo=UTC)
        slugs = []
        for i in range(start, start + count):
            street = f"{1000 + i} SW {10 + i % 90}th Street"
            slug = f"{1000 + i}-sw-{10 + i % 90}th-street-ocala-{i}"
            page = (
                template.replace(SYNTHETIC_TEMPLATE, slug)
                .replace("5127 SW 88th Place", street)
                .replace("sanibel-5127", f"sanibel-{i}")
                .replace("$289,990", f"${250_000 + (i * 37 % 100) * 1000:,}")
                .replace("1,850", f"{1400 + i % 900:,}")
            )
            self.add_home(slug, page, (epoch + timedelta(minutes=i)).isoformat())
            slugs.append(slug)
        return slugs

    def set_robots(self, text: str | None) -> None:
        """Serve this robots.txt (None: 404)."""
        self._state.robots = text

    def fail(self, path: str, kind: FaultKind, **options: object) -> None:
        """Make `path` misbehave (see `Fault`)."""
        self._state.faults[path] = Fault(kind=kind, **options)  # type: ignore[arg-type]

    def clear_faults(self) -> None:
        """Every path behaves again."""
        self._state.faults.clear()

    def reset_counts(self) -> None:
        """Forget the request log."""
        self.hits.clear()
        self.requests.clear()
        self.max_in_flight = 0

    def sitemap_paths(self) -> list[str]:
        """Paths of the sitemap documents in the current mode."""
        if self.sitemap_mode == "urlset":
            return ["/homes-sitemap.xml"]
        return ["/homes-sitemap.xml", *(f"/homes-sitemap{n}.xml" for n in self._chunk_numbers())]

    # -- internals ---------------------------------------------------------------------------

    def _load_fixtures(self) -> None:
        for slug in HOME_SLUGS:
            self._state.pages[slug] = _read(f"homes/{slug}.html")
        root = etree.fromstring((FIXTURES / "homes-sitemap1.xml").read_bytes())
        for url in root.iter(f"{{{SITEMAP_NS}}}url"):
            loc = url.findtext(f"{{{SITEMAP_NS}}}loc")
            assert loc is not None
            self._state.items.append(
                SitemapItem(loc.strip(), url.findtext(f"{{{SITEMAP_NS}}}lastmod"))
            )

    def _items_of(self, slug: str) -> list[SitemapItem]:
        pattern = re.compile(rf"/new-homes-for-sale/{re.escape(slug)}(?:[/?#]|$)")
        return [i for i in self._state.items if pattern.search(i.loc)]

    def _chunk_numbers(self) -> range:
        return range(1, max(1, -(-len(self._state.items) // self.per_sitemap)) + 1)

    def _urlset(self, items: list[SitemapItem]) -> str:
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<urlset xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" '
            f'xmlns="{SITEMAP_NS}">',
        ]
        for item in items:
            lastmod = f"<lastmod>{item.lastmod}</lastmod>" if item.lastmod else ""
            lines.append(f"\t<url>\n\t\t<loc>{item.loc}</loc>\n\t\t{lastmod}\n\t</url>")
        lines.append("</urlset>\n<!-- XML Sitemap generated by Yoast SEO -->")
        return render("\n".join(lines), self.base_url)

    def _sitemap(self, path: str) -> tuple[str, datetime] | None:
        items = self._state.items
        if self.sitemap_mode == "urlset":
            return (
                (self._urlset(items), self._newest(items)) if path == "/homes-sitemap.xml" else None
            )
        chunks = {
            n: items[(n - 1) * self.per_sitemap : n * self.per_sitemap]
            for n in self._chunk_numbers()
        }
        if path == "/homes-sitemap.xml":
            parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">']
            for n, chunk in chunks.items():
                parts.append(
                    f"\t<sitemap>\n\t\t<loc>{self.base_url}/homes-sitemap{n}.xml</loc>\n"
                    f"\t\t<lastmod>{self._newest(chunk).isoformat()}</lastmod>\n\t</sitemap>"
                )
            parts.append("</sitemapindex>")
            return "\n".join(parts), self._newest(items)
        match = re.fullmatch(r"/homes-sitemap(\d+)\.xml", path)
        if match and int(match.group(1)) in chunks:
            chunk = chunks[int(match.group(1))]
            return self._urlset(chunk), self._newest(chunk)
        return None

    @staticmethod
    def _newest(items: list[SitemapItem]) -> datetime:
        newest = datetime(2020, 1, 1, tzinfo=UTC)
        for item in items:
            if item.lastmod:
                with contextlib.suppress(ValueError):
                    when = datetime.fromisoformat(item.lastmod)
                    when = when if when.tzinfo else when.replace(tzinfo=UTC)
                    newest = max(newest, when)
        return newest

    def _page(self, slug: str) -> bytes | None:
        if slug not in self._state.pages:
            return None
        if slug not in self._rendered:
            self._rendered[slug] = render(self._state.pages[slug], self.base_url).encode()
        return self._rendered[slug]

    def _take_fault(self, path: str) -> Fault | None:
        fault = self._state.faults.get(path)
        if fault is None:
            return None
        if fault.times is not None:
            if fault.times <= 0:
                return None
            fault.times -= 1
        return fault

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        self.requests.append(RecordedRequest(path, request.query_string, dict(request.headers)))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self._respond(request, path)
        finally:
            self.in_flight -= 1

    async def _respond(self, request: web.Request, path: str) -> web.StreamResponse:
        if path.startswith("/__loop__/"):
            return web.Response(status=301, headers={"Location": path[len("/__loop__") :]})
        fault = self._take_fault(path)
        if fault is not None:
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            else:
                return await self._misbehave(request, path, fault)
        if path == "/robots.txt":
            if self._state.robots is None:
                return web.Response(status=404, text="Not Found")
            return web.Response(text=render(self._state.robots, self.base_url))
        sitemap = self._sitemap(path)
        if sitemap is not None:
            return self._sitemap_response(request, *sitemap)
        if path == COMMUNITY_PATH:
            return self._html(fixture("communities/oak-hammock-preserve.html", self.base_url))
        match = re.fullmatch(r"/new-homes-for-sale/([^/]+)(/?)", path)
        if match:
            if not match.group(2):
                return web.Response(status=301, headers={"Location": f"{path}/"})
            body = self._page(match.group(1))
            if body is not None:
                return web.Response(body=body, content_type="text/html", charset="utf-8")
        return self._html(fixture("not-found.html", self.base_url), status=404)

    @staticmethod
    def _html(text: str, status: int = 200) -> web.Response:
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")

    def _sitemap_response(self, request: web.Request, text: str, newest: datetime) -> web.Response:
        body = text.encode()
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        modified = format_datetime(newest.astimezone(UTC), usegmt=True)
        headers: dict[str, str] = {}
        if self.etag:
            headers["ETag"] = etag
        if self.last_modified:
            headers["Last-Modified"] = modified
        if self.etag and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        if (
            not self.etag
            and self.last_modified
            and request.headers.get("If-Modified-Since") == modified
        ):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=body, headers=headers, content_type="application/xml", charset="utf-8"
        )

    def _original_body(self, path: str) -> bytes:
        match = re.fullmatch(r"/new-homes-for-sale/([^/]+)/", path)
        page = self._page(match.group(1)) if match else None
        if page is not None:
            return page
        sitemap = self._sitemap(path)
        return sitemap[0].encode() if sitemap else fixture("not-found.html", self.base_url).encode()

    async def _misbehave(self, request: web.Request, path: str, fault: Fault) -> web.StreamResponse:
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return web.Response(status=fault.status, text="Service unavailable", headers=headers)
        if fault.kind == "redirect_loop":
            return web.Response(status=301, headers={"Location": f"/__loop__{path}"})
        if fault.kind == "redirect":
            return web.Response(status=302, headers={"Location": fault.location})
        if fault.kind == "not_xml":
            return self._html("<html><body><h1>Down for maintenance</h1></body></html>")
        body = self._original_body(path)
        if fault.kind == "truncate":
            cut = body[: int(len(body) * fault.fraction)]
            return web.Response(body=cut, content_type="text/html", charset="utf-8")
        if fault.kind == "non_utf8":
            text = body.decode("utf-8")
            return web.Response(
                body=text.encode("windows-1252", "replace"),
                content_type="text/html",
                charset="utf-8",
            )
        if fault.kind == "disconnect":
            response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            assert request.transport is not None
            request.transport.close()
            return response
        if fault.kind == "enormous":
            response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            chunk = b"<p>" + b"All work and no play makes a very large page. " * 1300 + b"</p>\n"
            sent = 0
            with contextlib.suppress(ConnectionError, RuntimeError):
                while sent < fault.size:
                    await response.write(chunk)
                    sent += len(chunk)
                await response.write_eof()
            return response
        raise AssertionError(f"unknown fault {fault.kind}")


class ThreadedSite:
    """Runs a FakeBuilderSite on its own event loop in a thread (for benchmarks).

    Hooks are plain attribute changes; call them only while no pass is running.
    """

    def __init__(self, site: FakeBuilderSite) -> None:
        self.site = site
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeBuilderSite:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.site.start(), self._loop).result(timeout=10)
        return self.site

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.site.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextlib.contextmanager
def threaded_site(**options: object) -> Iterator[FakeBuilderSite]:
    """`with threaded_site(sitemap_mode="urlset") as site:` — a fake on a background loop."""
    with ThreadedSite(FakeBuilderSite(**options)) as site:  # type: ignore[arg-type]
        yield site
