"""Lifecycle drafts end to end through the scrape: `now selling`, `just sold`, back on the
market; one draft per event per agent, even after a restart."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.base import utcnow
from db.models import Agent, ApprovalLog, ContentPiece, ListingStatusChange
from services.context import Database
from services.drafting.listing_drafts import DraftMaker
from services.generation.builtin_writer import BuiltinWriter
from services.generation.openai_writer import OpenAIWriter
from services.scraping.withdrawals import (
    WITHDRAWN_BACK_ON_MARKET,
    WITHDRAWN_OFF_MARKET,
    withdraw_drafts,
)
from tests.factories import make_agent, make_listing, make_piece
from tests.fakes.builder_site import FakeBuilderSite
from tests.fakes.openai_server import FakeOpenAI
from tests.services.scraping.scrape_pass.conftest import (
    OCALA,
    PORT_ST_LUCIE,
    RecordingEvents,
    Scraper,
    page_with,
    replace_page,
    site,  # noqa: F401 (fixture)
)


def _scraper(database: Database, fake_site: FakeBuilderSite) -> Scraper:
    return Scraper(database=database, site=fake_site, events=RecordingEvents())


async def _agents(database: Database, n: int) -> list[Agent]:
    async with database.unit_of_work() as s:
        return [await make_agent(s) for _ in range(n)]


async def _pieces(database: Database, purpose: str) -> list[ContentPiece]:
    async with database.unit_of_work() as s:
        rows = await s.execute(
            select(ContentPiece)
            .where(ContentPiece.purpose == purpose)
            .order_by(ContentPiece.created_at, ContentPiece.id)
        )
        return list(rows.scalars().all())


async def test_now_selling_once_per_agent_across_rescrapes_and_restarts(
    database: Database,
    site: FakeBuilderSite,  # noqa: F811
) -> None:
    scraper = _scraper(database, site)
    agents = await _agents(database, 2)
    maker = DraftMaker(database, BuiltinWriter())
    await scraper.run(events=maker)
    assert (await scraper.listing(PORT_ST_LUCIE)).status == "upcoming"
    assert await _pieces(database, "now_selling") == []

    replace_page(site, PORT_ST_LUCIE, page_with(PORT_ST_LUCIE, "Coming Soon", "Move In Ready"))
    await scraper.run(events=maker)

    listing = await scraper.listing(PORT_ST_LUCIE)
    drafts = await _pieces(database, "now_selling")
    assert {p.agent_id for p in drafts} == {a.id for a in agents}
    assert all(p.listing_id == listing.id for p in drafts)
    async with database.unit_of_work() as s:
        [change] = (await s.execute(select(ListingStatusChange))).scalars().all()
    assert (change.old_status, change.new_status) == ("upcoming", "active")
    assert {p.event_key for p in drafts} == {f"now_selling:{change.id}"}
    for piece in drafts:
        assert piece.status == "pending_approval_agent"
        text = piece.generated_text["instagram_text"]
        assert "#NowSelling" in text and "#ComingSoon" not in text
        assert "Home built by Holiday Builders" in text and "Equal Housing Opportunity" in text

    # The page changes again without a status change: no new event.
    replace_page(site, PORT_ST_LUCIE, page_with(PORT_ST_LUCIE, "Coming Soon", "Move In Ready"))
    site.touch(PORT_ST_LUCIE)
    await scraper.run(events=maker)
    # A restarted process replays what it finds: the same event, and the backfill.
    restarted = DraftMaker(database, BuiltinWriter())
    replay = await restarted.lifecycle([(change.id, listing.id, "upcoming", "active")])
    assert replay.created == [] and replay.skipped == 2
    assert (await restarted.backfill()).created == []
    assert len(await _pieces(database, "now_selling")) == 2


async def test_an_event_lost_to_a_crash_is_written_once_after_the_restart(
    database: Database,
    site: FakeBuilderSite,  # noqa: F811
) -> None:
    scraper = _scraper(database, site)
    (agent,) = await _agents(database, 1)
    await scraper.run(events=DraftMaker(database, BuiltinWriter()))
    replace_page(site, PORT_ST_LUCIE, page_with(PORT_ST_LUCIE, "Coming Soon", "Move In Ready"))
    await scraper.run()  # the status change is committed, then the process dies: no drafts
    assert await _pieces(database, "now_selling") == []

    first, second = DraftMaker(database, BuiltinWriter()), DraftMaker(database, BuiltinWriter())
    assert len((await first.backfill()).created) == 1
    assert (await second.backfill()).created == []
    [piece] = await _pieces(database, "now_selling")
    assert piece.agent_id == agent.id


async def test_just_sold_survives_the_withdrawal_and_back_on_the_market_follows(
    database: Database,
    site: FakeBuilderSite,  # noqa: F811
) -> None:
    scraper = _scraper(database, site)
    (agent,) = await _agents(database, 1)
    maker = DraftMaker(database, BuiltinWriter())
    await scraper.run(events=maker)
    [new_post] = [
        p
        for p in await _pieces(database, "new_listing")
        if p.listing_id == (await scraper.listing(OCALA)).id
    ]
    assert new_post.status == "pending_approval_agent"

    replace_page(site, OCALA, page_with(OCALA, "Move In Ready", "Sold Out"))
    await scraper.run(events=maker)

    ocala = await scraper.listing(OCALA)
    assert ocala.status == "sold"
    [sold] = await _pieces(database, "just_sold")
    assert (sold.agent_id, sold.listing_id, sold.status) == (
        agent.id,
        ocala.id,
        "pending_approval_agent",
    )
    for key in ("facebook_text", "instagram_text"):
        text = sold.generated_text[key]
        assert "#JustSold" in text
        assert "$" not in text  # a sold home's asking price is not announced
        assert "tour" not in text.lower() and "showing" not in text.lower()
    withdrawn = [p for p in await _pieces(database, "new_listing") if p.id == new_post.id]
    assert withdrawn[0].status == "rejected"

    # A later pass (a re-scrape) and another withdrawal: the `just sold` draft stays.
    site.touch(OCALA)
    await scraper.run(events=maker)
    assert len(await _pieces(database, "just_sold")) == 1
    async with database.unit_of_work() as s:
        await withdraw_drafts(s, {ocala.id: WITHDRAWN_OFF_MARKET}, utcnow())
    [still] = await _pieces(database, "just_sold")
    assert still.status == "pending_approval_agent"

    # Back on the site for sale: a back-on-the-market post.
    replace_page(site, OCALA, page_with(OCALA, "Move In Ready", "Move In Ready"))
    await scraper.run(events=maker)
    assert (await scraper.listing(OCALA)).status == "active"
    [back] = await _pieces(database, "back_on_market")
    assert back.agent_id == agent.id
    assert "#BackOnTheMarket" in back.generated_text["instagram_text"]
    assert back.event_key is not None and back.event_key.startswith("back_on_market:")
    # The `just sold` draft, never posted, is no longer true: withdrawn, and the audit says why.
    [sold_again] = await _pieces(database, "just_sold")
    assert sold_again.id == sold.id and sold_again.status == "rejected"
    async with database.unit_of_work() as s:
        [log] = (
            (await s.execute(select(ApprovalLog).where(ApprovalLog.content_piece_id == sold.id)))
            .scalars()
            .all()
        )
    assert (log.from_status, log.to_status) == ("pending_approval_agent", "rejected")
    assert log.feedback == WITHDRAWN_BACK_ON_MARKET
    assert back.status == "pending_approval_agent"


async def test_the_database_refuses_a_second_draft_for_one_event(database: Database) -> None:
    (agent,) = await _agents(database, 1)
    async with database.unit_of_work() as s:
        listing = await make_listing(s, status="sold")
        await make_piece(s, agent, listing, purpose="just_sold", event_key="just_sold:x")
        # Another agent may have the same event; other drafts carry no key at all.
        await make_piece(s, await make_agent(s), listing, event_key="just_sold:x")
        await make_piece(s, agent, listing)
        await make_piece(s, agent, listing)
    with pytest.raises(IntegrityError):
        async with database.unit_of_work() as s:
            await make_piece(s, agent, listing, purpose="just_sold", event_key="just_sold:x")


async def test_the_openai_writer_writes_each_event_its_own_way(
    database: Database,
    site: FakeBuilderSite,  # noqa: F811
    fake_openai: FakeOpenAI,
) -> None:
    scraper = _scraper(database, site)
    await _agents(database, 1)
    writer = OpenAIWriter(
        api_key="sk-test", base_url=fake_openai.base_url, model="gpt-4o-mini", concurrency=2
    )
    try:
        maker = DraftMaker(database, writer)
        await scraper.run(events=maker)
        replace_page(site, OCALA, page_with(OCALA, "Move In Ready", "Sold Out"))
        replace_page(site, PORT_ST_LUCIE, page_with(PORT_ST_LUCIE, "Coming Soon", "Move In Ready"))
        await scraper.run(events=maker)
    finally:
        await writer.aclose()
    [sold] = await _pieces(database, "just_sold")
    [selling] = await _pieces(database, "now_selling")
    assert sold.writer == selling.writer == "openai:gpt-4o-mini"
    assert sold.generated_text["facebook_text"].startswith("Just sold in")
    assert "#JustSold" in sold.generated_text["hashtags"]
    assert "$" not in sold.generated_text["instagram_text"]
    assert selling.generated_text["facebook_text"].startswith("Now selling in")
    assert "#NowSelling" in selling.generated_text["hashtags"]
    for piece in (sold, selling):
        assert "Home built by Holiday Builders" in piece.generated_text["facebook_text"]
        assert not [w for w in piece.warnings or [] if w.get("kind") == "facts"]
