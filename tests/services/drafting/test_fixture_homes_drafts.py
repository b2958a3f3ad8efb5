"""Issue 4's bar: with no API key, every fixture home gets a draft an agent could post.

The fixture site is scraped for real, the built-in writer drafts each new home through
the DraftMaker, and every draft must pass every check without a warning.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from db.models import ContentPiece, Listing
from services.context import Database
from services.drafting.listing_drafts import DraftMaker
from services.generation.writer_factory import build_writer
from services.scraping.scrape_pass import run_scrape_pass
from tests.factories import make_agent
from tests.fakes.builder_site import FakeBuilderSite
from tests.services.scraping.scrape_pass.conftest import fast_fetcher_factory


@pytest.fixture
async def site() -> AsyncIterator[FakeBuilderSite]:
    async with FakeBuilderSite() as fake:
        yield fake


def _money(value: object) -> str:
    return f"${int(value):,}"  # type: ignore[call-overload]


async def test_every_fixture_home_gets_a_postable_builtin_draft(
    database: Database, site: FakeBuilderSite
) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s, name="Chris Doe", company="Sunrise Realty")
    maker = DraftMaker(database, build_writer(api_key=None, base_url=None, model="unused"))
    summary = await run_scrape_pass(
        database,
        base_url=site.base_url,
        fetcher_factory=fast_fetcher_factory(),
        events=maker,
    )
    assert summary.new >= 5
    async with database.unit_of_work() as s:
        listings = {
            row.id: row
            for row in (await s.execute(select(Listing))).scalars()
            if row.status in ("active", "upcoming")
        }
        pieces = (
            (await s.execute(select(ContentPiece).where(ContentPiece.agent_id == agent.id)))
            .scalars()
            .all()
        )
    assert listings, "the fixture site has homes on the market"
    by_listing = {p.listing_id: p for p in pieces}
    assert set(by_listing) == set(listings), "one draft per home on the market"
    for listing_id, piece in by_listing.items():
        home = listings[listing_id]
        text = piece.generated_text
        assert piece.status == "pending_approval_agent", home.source_id
        assert piece.warnings in ([], None) or all(
            w.get("kind") == "writer_note" for w in piece.warnings
        ), (home.source_id, piece.warnings)
        for platform in ("facebook_text", "instagram_text"):
            body = text[platform]
            assert "Sunrise Realty" in body and "Equal Housing Opportunity" in body
            assert home.address.split()[0] in body or home.city in body, home.source_id
            if home.price is not None:
                assert _money(home.price) in body, (home.source_id, platform)
        ig = text["instagram_text"]
        assert len(ig) <= 2200 and len(re.findall(r"#\w+", ig)) <= 30
        assert text["headline"].strip() and text["call_to_action"].strip()
        assert home.image_urls is not None
        assert piece.associated_image_urls == home.image_urls[:10]
