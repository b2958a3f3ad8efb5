"""Whole scrape passes against the fake builder site, written to the database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from db.models import Listing, ListingPriceChange, Notification
from services.context import Database
from services.scraping.missing_homes import OFF_MARKET_AFTER
from services.scraping.models import CrawlResult, SitemapEntry
from services.scraping.parser import parse_home
from services.scraping.scrape_pass import BATCH_SIZE, save_crawl_result
from tests.factories import make_agent
from tests.fakes.builder_site import HOME_SLUGS, FakeBuilderSite, home_fixture
from tests.services.scraping.expected_homes import SITEMAP_LASTMODS, expected_homes
from tests.services.scraping.scrape_pass.conftest import (
    CAPE_CORAL,
    OCALA,
    PALM_BAY,
    Scraper,
    page_with,
    record_statements,
    replace_page,
)

COLUMNS = (
    "source_url",
    "address",
    "city",
    "state",
    "zip_code",
    "price",
    "beds",
    "baths",
    "sqft",
    "description",
    "key_features",
    "image_urls",
    "community",
    "plan_name",
    "garage",
    "latitude",
    "longitude",
    "school_district",
    "facts",
)


def _page_hits(site: FakeBuilderSite) -> dict[str, int]:
    return {p: n for p, n in site.hits.items() if p.startswith("/new-homes-for-sale/")}


async def test_first_pass_saves_every_fixture_home_with_every_field(scraper: Scraper) -> None:
    summary = await scraper.run()
    assert (summary.checked, summary.new, summary.changed, summary.failed) == (7, 7, 0, 0)
    assert summary.sitemap_ok and summary.requests == 1 + 2 + 7  # robots, 2 sitemaps, 7 homes
    assert summary.sold == 0 and summary.price_changes == 0

    rows = await scraper.listings()
    assert sorted(rows) == sorted(HOME_SLUGS)
    for slug, want in expected_homes(scraper.site.base_url).items():
        row = rows[slug]
        got: dict[str, Any] = {name: getattr(row, name) for name in COLUMNS}
        expected = {name: want[name] for name in COLUMNS}
        assert got == expected, slug
        assert row.status == (want["status"] or "active"), slug
        assert row.source_lastmod == SITEMAP_LASTMODS[slug]
        assert row.missed_passes == 0 and row.content_hash and len(row.content_hash) == 64
        assert row.scraped_at is not None and row.last_updated_at is not None
    # every home but the sold one was announced as new, in one batch
    assert len(scraper.events.new) == 1 and len(scraper.events.new[0]) == 6
    assert rows[PALM_BAY].id not in scraper.events.new[0]


async def test_second_pass_makes_only_sitemap_requests_and_writes_nothing(
    scraper: Scraper,
) -> None:
    await scraper.run()
    scraper.site.reset_counts()
    with record_statements(scraper.database.engine) as sql:
        summary = await scraper.run()
    assert dict(scraper.site.hits) == {"/homes-sitemap.xml": 1, "/homes-sitemap1.xml": 1}
    assert summary.requests == 2
    assert (summary.new, summary.changed, summary.unchanged) == (0, 0, 7)
    assert sql.statements, "the pass must at least read what it knows"
    assert sql.writes == []


async def test_a_changed_lastmod_refetches_only_that_home(scraper: Scraper) -> None:
    await scraper.run()
    before = await scraper.listing(CAPE_CORAL)
    new_lastmod = scraper.site.touch(CAPE_CORAL)
    scraper.site.reset_counts()
    with record_statements(scraper.database.engine) as sql:
        summary = await scraper.run()
    assert _page_hits(scraper.site) == {f"/new-homes-for-sale/{CAPE_CORAL}/": 1}
    assert summary.requests == 2 + 1
    # same content: only the lastmod is remembered, the listing is not "updated"
    assert (summary.changed, summary.unchanged) == (0, 7)
    assert len(sql.writes) == 1 and sql.writes[0].lstrip().upper().startswith("UPDATE")
    after = await scraper.listing(CAPE_CORAL)
    assert after.source_lastmod == datetime.fromisoformat(new_lastmod)
    assert after.last_updated_at == before.last_updated_at
    assert after.content_hash == before.content_hash
    # and the next pass fetches nothing again
    scraper.site.reset_counts()
    await scraper.run()
    assert _page_hits(scraper.site) == {}


async def test_sitemap_failure_marks_nothing_gone(scraper: Scraper) -> None:
    await scraper.run()
    scraper.site.fail("/homes-sitemap1.xml", "status", status=500)
    for _ in range(OFF_MARKET_AFTER + 1):
        summary = await scraper.run()
        assert not summary.sitemap_ok and summary.failed >= 1
        assert summary.sold == 0 and summary.off_market == 0
    rows = await scraper.listings()
    assert all(row.missed_passes == 0 for row in rows.values())
    assert {row.status for row in rows.values()} == {"active", "upcoming", "sold"}
    assert scraper.events.sold == []


async def test_unreachable_site_is_reported_as_such(scraper: Scraper) -> None:
    scraper.site.fail("/homes-sitemap.xml", "status", status=503)
    summary = await scraper.run()
    assert summary.site_unreachable and summary.checked == 0 and summary.new == 0
    assert summary.failures and "503" in summary.failures[0].reason
    assert await scraper.listings() == {}


async def test_a_page_without_an_address_is_counted_failed_not_saved(scraper: Scraper) -> None:
    page = page_with(OCALA, '<h2 class="text-blue uk-margin-remove">5127 SW 88th Place</h2>', "")
    replace_page(scraper.site, OCALA, page)
    summary = await scraper.run()
    assert summary.new == 6 and summary.failed == 1
    assert summary.failures[0].url.endswith(f"/new-homes-for-sale/{OCALA}/")
    assert "street address" in summary.failures[0].reason
    assert OCALA not in await scraper.listings()
    # still missing next time: fetched again, still failed, still harmless
    scraper.site.reset_counts()
    summary = await scraper.run()
    assert summary.failed == 1 and _page_hits(scraper.site) == {f"/new-homes-for-sale/{OCALA}/": 1}


async def test_a_failing_events_hook_does_not_stop_the_pass(scraper: Scraper) -> None:
    class Broken:
        async def on_new(self, listing_ids: Any) -> None:
            raise RuntimeError("drafts service down")

        async def on_price_change(self, changes: Any) -> None:
            raise RuntimeError("drafts service down")

        async def on_sold(self, listing_ids: Any) -> None:
            raise RuntimeError("drafts service down")

        async def on_status_change(self, changes: Any) -> None:
            raise RuntimeError("drafts service down")

    summary = await scraper.run(events=Broken())
    assert summary.new == 7
    assert len(await scraper.listings()) == 7


async def test_price_history_rows_hold_old_and_new(scraper: Scraper) -> None:
    await scraper.run()
    scraper.site.set_price(OCALA, "$279,990")
    summary = await scraper.run()
    assert (summary.changed, summary.price_changes) == (1, 1)
    row = await scraper.listing(OCALA)
    assert row.price == Decimal("279990")
    async with scraper.database.unit_of_work() as session:
        history = (await session.execute(select(ListingPriceChange))).scalars().all()
    assert [(h.listing_id, h.old_price, h.new_price) for h in history] == [
        (row.id, Decimal("289990"), Decimal("279990"))
    ]
    assert scraper.events.prices[-1] == [(row.id, Decimal("289990"), Decimal("279990"))]


async def test_now_stamps_written_rows(scraper: Scraper) -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    await scraper.run(now=when)
    row = await scraper.listing(OCALA)
    assert row.scraped_at == when and row.last_updated_at == when


async def test_full_default_batches_fit_the_drivers_parameter_limits(
    database: Database, site: FakeBuilderSite
) -> None:
    # Parsing is the slow part of a big crawl: build the homes from one parsed page.
    template = parse_home(home_fixture(OCALA, site.base_url), site.home_url(OCALA))
    homes = [
        dataclasses.replace(
            template,
            source_id=f"home-{i}",
            source_url=site.home_url(f"home-{i}"),
            price=Decimal(250_000 + i),
            source_lastmod=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
        )
        for i in range(2 * BATCH_SIZE + 50)
    ]
    entries = [SitemapEntry(h.source_url, h.source_id, h.source_lastmod) for h in homes]
    result = CrawlResult(
        entries=entries,
        homes=homes,
        failures=[],
        requests_made=0,
        sitemap_ok=True,
        duration_s=0.0,
    )
    async with database.unit_of_work() as session:
        await make_agent(session)
    summary = await save_crawl_result(database, result)
    assert (summary.new, summary.failed) == (len(homes), 0)
    async with database.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Listing)) == len(homes)
        assert await session.scalar(select(func.count()).select_from(Notification)) == len(homes)
    again = await save_crawl_result(database, result)
    assert (again.new, again.changed, again.unchanged) == (0, 0, len(homes))


async def test_a_pass_cut_by_its_deadline_saves_what_it_fetched_and_the_next_one_the_rest(
    scraper: Scraper,
) -> None:
    site = scraper.site
    slow = [OCALA, CAPE_CORAL]
    for slug in slow:
        site.fail(f"/new-homes-for-sale/{slug}/", "slow", delay=30.0)
    summary = await scraper.run(deadline_s=2.0)
    assert summary.deadline_reached and (summary.fetched, summary.to_fetch) == (5, 7)
    assert (summary.checked, summary.new, summary.failed) == (7, 5, 0)
    assert summary.deadline_note() == (
        "Stopped at its deadline after 5 of 7 homes; the rest will be fetched next pass."
    )
    rows = await scraper.listings()
    assert sorted(rows) == sorted(set(HOME_SLUGS) - set(slow))
    assert all(row.missed_passes == 0 for row in rows.values())

    site.clear_faults()
    site.reset_counts()
    summary = await scraper.run()  # the pass lock was released: this one runs
    assert not summary.deadline_reached and summary.deadline_note() is None
    assert _page_hits(site) == {f"/new-homes-for-sale/{slug}/": 1 for slug in slow}
    assert (summary.new, summary.unchanged) == (2, 5)
    rows = await scraper.listings()
    assert sorted(rows) == sorted(HOME_SLUGS)
    assert {slug: rows[slug].source_lastmod for slug in slow} == {
        slug: SITEMAP_LASTMODS[slug] for slug in slow
    }


async def test_a_change_cut_by_the_deadline_is_not_recorded_as_seen(scraper: Scraper) -> None:
    site = scraper.site
    await scraper.run()
    before = await scraper.listing(OCALA)
    site.set_price(OCALA, "$279,990")  # moves its lastmod too
    site.fail(f"/new-homes-for-sale/{OCALA}/", "slow", delay=30.0)
    summary = await scraper.run(deadline_s=1.0)
    assert summary.deadline_reached and (summary.fetched, summary.to_fetch) == (0, 1)
    cut = await scraper.listing(OCALA)
    assert (cut.source_lastmod, cut.price) == (before.source_lastmod, before.price)

    site.clear_faults()
    summary = await scraper.run()
    assert (summary.changed, summary.price_changes) == (1, 1)
    after = await scraper.listing(OCALA)
    assert after.price == Decimal("279990")
    assert after.source_lastmod == datetime.fromisoformat(site.lastmod(OCALA) or "")
