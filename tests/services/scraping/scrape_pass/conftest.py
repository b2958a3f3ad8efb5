"""Fixtures for the ingest tests: the fake builder site, fast fetchers, a recording hook."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Listing
from services.context import Database
from services.scraping.fetcher import FetchCache, PoliteFetcher
from services.scraping.listing_events import PriceChange, StatusChange
from services.scraping.scrape_pass import ScrapeSummary, run_scrape_pass
from tests.fakes.builder_site import FIXTURES, FakeBuilderSite

OCALA = "5127-sw-88th-place-ocala"
PORT_ST_LUCIE = "10421-sw-cabernet-drive-port-st-lucie"
PALM_BAY = "1482-heron-bay-lane-palm-bay"
CAPE_CORAL = "918-nw-14th-terrace-cape-coral"


def fast_fetcher_factory(cache: FetchCache | None = None) -> Callable[[str], PoliteFetcher]:
    """Fetchers with no politeness delay sharing one cache, as passes in one process do."""
    shared = cache or FetchCache()

    def make(base_url: str) -> PoliteFetcher:
        return PoliteFetcher(
            base_url, delay_s=0.0, backoff_base_s=0.01, max_attempts=2, cache=shared
        )

    return make


@dataclass
class RecordingEvents:
    """A ListingEvents that remembers every call."""

    new: list[list[uuid.UUID]] = field(default_factory=list)
    prices: list[list[PriceChange]] = field(default_factory=list)
    sold: list[list[uuid.UUID]] = field(default_factory=list)
    statuses: list[list[StatusChange]] = field(default_factory=list)

    async def on_new(self, listing_ids: Sequence[uuid.UUID]) -> None:
        self.new.append(list(listing_ids))

    async def on_price_change(self, changes: Sequence[PriceChange]) -> None:
        self.prices.append(list(changes))

    async def on_sold(self, listing_ids: Sequence[uuid.UUID]) -> None:
        self.sold.append(list(listing_ids))

    async def on_status_change(self, changes: Sequence[StatusChange]) -> None:
        self.statuses.append(list(changes))


@dataclass
class Scraper:
    """Runs passes of one database against one fake site with a shared fetch cache."""

    database: Database
    site: FakeBuilderSite
    events: RecordingEvents
    cache: FetchCache = field(default_factory=FetchCache)

    async def run(self, **options: Any) -> ScrapeSummary:
        options.setdefault("events", self.events)
        options.setdefault("fetcher_factory", fast_fetcher_factory(self.cache))
        return await run_scrape_pass(self.database, base_url=self.site.base_url, **options)

    async def listing(self, source_id: str) -> Listing:
        async with self.database.unit_of_work() as session:
            row = (
                await session.execute(select(Listing).where(Listing.source_id == source_id))
            ).scalar_one()
        return row

    async def listings(self) -> dict[str, Listing]:
        async with self.database.unit_of_work() as session:
            rows = (await session.execute(select(Listing))).scalars().all()
        return {row.source_id: row for row in rows}


@pytest.fixture
async def site() -> AsyncIterator[FakeBuilderSite]:
    async with FakeBuilderSite() as fake:
        yield fake


@pytest.fixture
def scraper(database: Database, site: FakeBuilderSite) -> Scraper:
    return Scraper(database=database, site=site, events=RecordingEvents())


def page_with(slug: str, old: str, new: str) -> str:
    """A fixture home page template with the first `old` replaced by `new`."""
    template = (FIXTURES / "homes" / f"{slug}.html").read_text(encoding="utf-8")
    assert old in template, f"{old!r} is not on {slug}"
    return template.replace(old, new, 1)


def replace_page(site: FakeBuilderSite, slug: str, template: str) -> None:
    """Serve a new page for `slug` with a later lastmod (as the builder's CMS would)."""
    lastmod = site.lastmod(slug)
    # page_too: add_home alone would keep serving the page rendered before.
    site.remove_home(slug, page_too=True)
    site.add_home(slug, template, lastmod)
    site.touch(slug)


@dataclass
class StatementLog:
    """SQL statements seen on an engine while recording."""

    statements: list[str] = field(default_factory=list)

    @property
    def writes(self) -> list[str]:
        return [
            s
            for s in self.statements
            if s.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
        ]


@contextmanager
def record_statements(engine: AsyncEngine) -> Iterator[StatementLog]:
    """Record every statement sent to the database (before_cursor_execute)."""
    log = StatementLog()

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        log.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield log
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)
