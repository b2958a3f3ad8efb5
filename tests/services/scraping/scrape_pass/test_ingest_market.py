"""Agents' side of a pass: assignment, notifications, sold and off-market homes, drafts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from db.base import utcnow
from db.models import (
    Agent,
    AgentListing,
    ApprovalLog,
    ContentPiece,
    Listing,
    Notification,
    PostSchedule,
)
from db.repositories import agents as agents_repo
from db.repositories import scraping as ingest_repo
from services.context import Database
from services.scraping.agent_assignment import assign_existing_listings
from services.scraping.scrape_pass import ScrapeAlreadyRunning, scrape_running
from services.scraping.withdrawals import WITHDRAWN_OFF_MARKET, WITHDRAWN_SOLD
from tests.factories import make_account, make_agent, make_piece
from tests.fakes.builder_site import FIXTURES, HOME_SLUGS
from tests.services.scraping.scrape_pass.conftest import (
    CAPE_CORAL,
    OCALA,
    PALM_BAY,
    PORT_ST_LUCIE,
    Scraper,
    page_with,
    record_statements,
    replace_page,
)

MILTON = "6230-bluewater-drive-milton"
JACKSONVILLE = "2214-amelia-bluff-court-jacksonville"


async def _agent(database: Database, areas: list[tuple[str, str]] = (), **values: Any) -> Agent:  # type: ignore[assignment]
    async with database.unit_of_work() as session:
        agent = await make_agent(session, **values)
        if areas:
            await agents_repo.set_service_areas(session, agent.id, areas)
    return agent


async def _notes(database: Database, agent: Agent, kind: str) -> list[Notification]:
    async with database.unit_of_work() as session:
        rows = await session.execute(
            select(Notification)
            .where(Notification.agent_id == agent.id, Notification.notification_type == kind)
            .order_by(Notification.created_at, Notification.id)
        )
        return list(rows.scalars().all())


async def _assigned(database: Database, agent: Agent) -> set[str]:
    async with database.unit_of_work() as session:
        rows = await session.execute(
            select(Listing.source_id)
            .join(AgentListing, AgentListing.listing_id == Listing.id)
            .where(AgentListing.agent_id == agent.id)
        )
        return set(rows.scalars().all())


async def _piece(database: Database, piece_id: uuid.UUID) -> ContentPiece:
    async with database.unit_of_work() as session:
        piece = await session.get(ContentPiece, piece_id)
    assert piece is not None
    return piece


async def test_new_homes_are_assigned_by_city_community_or_to_agents_without_areas(
    scraper: Scraper,
) -> None:
    db = scraper.database
    by_city = await _agent(db, [("city", "Ocala")])
    by_community = await _agent(db, [("community", "TRADITION OAKS")])
    everything = await _agent(db)
    inactive = await _agent(db, is_active=False)
    elsewhere = await _agent(db, [("city", "Tampa")])
    mixed = await _agent(db, [("city", "milton"), ("community", "Cape Coral")])

    await scraper.run()

    assert await _assigned(db, by_city) == {OCALA}
    assert await _assigned(db, by_community) == {PORT_ST_LUCIE}
    assert await _assigned(db, everything) == set(HOME_SLUGS)
    assert await _assigned(db, inactive) == set()
    assert await _assigned(db, elsewhere) == set()
    assert await _assigned(db, mixed) == {MILTON, CAPE_CORAL}

    # one "New home" notification per assigned home on the market (not the sold one)
    notes = await _notes(db, everything, "listing_ingested")
    assert len(notes) == 6
    texts = {n.message for n in notes}
    assert "New home: 5127 SW 88th Place, Ocala — $289,990, 3 bd/2 ba" in texts
    assert "New home: 10421 SW Cabernet Drive, Port St. Lucie — $374,990, 4 bd/2.5 ba" in texts
    assert "New home: 2214 Amelia Bluff Court, Jacksonville — no price shown, 5 bd/3 ba" in texts
    assert all(n.delivery_status == "pending" for n in notes)
    assert [n.message for n in await _notes(db, by_city, "listing_ingested")] == [
        "New home: 5127 SW 88th Place, Ocala — $289,990, 3 bd/2 ba"
    ]
    assert await _notes(db, inactive, "listing_ingested") == []

    # a second pass assigns and announces nothing again
    await scraper.run()
    assert len(await _notes(db, everything, "listing_ingested")) == 6
    assert await _assigned(db, everything) == set(HOME_SLUGS)


async def test_assignment_is_idempotent(scraper: Scraper) -> None:
    agent = await _agent(scraper.database)
    await scraper.run()
    ocala = await scraper.listing(OCALA)
    async with scraper.database.unit_of_work() as session:
        await ingest_repo.assign_listings(session, [(agent.id, ocala.id)] * 2, utcnow())
    async with scraper.database.unit_of_work() as session:
        count = await session.scalar(select(func.count()).select_from(AgentListing))
    assert count == len(HOME_SLUGS)


async def test_price_change_records_history_notifies_and_raises_the_event(
    scraper: Scraper,
) -> None:
    agent = await _agent(scraper.database)
    muted = await _agent(
        scraper.database, notification_preferences={"listing_price_changed": False}
    )
    await scraper.run()
    scraper.site.set_price(OCALA, "$279,990")
    summary = await scraper.run()
    assert (summary.changed, summary.price_changes, summary.new) == (1, 1, 0)
    ocala = await scraper.listing(OCALA)
    [note] = await _notes(scraper.database, agent, "listing_price_changed")
    assert note.message == "Price change: 5127 SW 88th Place, Ocala — $289,990 → $279,990"
    assert note.related_entity_id == ocala.id and note.delivery_status == "pending"
    [muted_note] = await _notes(scraper.database, muted, "listing_price_changed")
    assert muted_note.delivery_status == "skipped"  # written, not sent
    [[change]] = scraper.events.prices
    assert change.listing_id == ocala.id
    assert (change.old, change.new) == (289990, 279990)


async def test_sold_badge_marks_sold_withdraws_drafts_and_notifies(scraper: Scraper) -> None:
    db = scraper.database
    agent = await _agent(db)
    await scraper.run()
    ocala = await scraper.listing(OCALA)
    async with db.unit_of_work() as session:
        account = await make_account(session, agent)
        pending = await make_piece(session, agent, ocala)
        draft = await make_piece(session, agent, ocala, status="draft")
        revising = await make_piece(session, agent, ocala, status="pending_ai_revision")
        marketing = await make_piece(
            session, agent, ocala, status="pending_external_marketing_approval"
        )
        approved = await make_piece(session, agent, ocala, status="approved_for_posting")
        started = await make_piece(session, agent, ocala, status="approved_for_posting")
        posted = await make_piece(session, agent, ocala, status="posted_successfully")
        later = utcnow() + timedelta(days=1)
        session.add_all(
            [
                PostSchedule(
                    content_piece_id=approved.id,
                    social_media_account_id=account.id,
                    scheduled_at=later,
                    status="pending",
                ),
                PostSchedule(
                    content_piece_id=started.id,
                    social_media_account_id=account.id,
                    scheduled_at=utcnow(),
                    status="sent",
                ),
                PostSchedule(
                    content_piece_id=started.id,
                    social_media_account_id=account.id,
                    scheduled_at=later,
                    status="pending",
                ),
            ]
        )
    replace_page(scraper.site, OCALA, page_with(OCALA, "Move In Ready", "Sold Out"))

    summary = await scraper.run()

    assert (summary.sold, summary.off_market, summary.changed) == (1, 0, 1)
    assert (await scraper.listing(OCALA)).status == "sold"
    withdrawn = {pending.id, draft.id, revising.id, marketing.id, approved.id}
    for piece_id in withdrawn:
        assert (await _piece(db, piece_id)).status == "rejected"
    assert (await _piece(db, started.id)).status == "approved_for_posting"  # already posting
    assert (await _piece(db, posted.id)).status == "posted_successfully"
    async with db.unit_of_work() as session:
        logs = (await session.execute(select(ApprovalLog))).scalars().all()
        rows = (await session.execute(select(PostSchedule))).scalars().all()
    assert {log.content_piece_id for log in logs} == withdrawn
    assert all(
        log.action_type == "rejected"
        and log.feedback == WITHDRAWN_SOLD
        and log.to_status == "rejected"
        and log.agent_id == agent.id
        and log.version == 1
        for log in logs
    )
    assert {log.content_piece_id: log.from_status for log in logs}[marketing.id] == (
        "pending_external_marketing_approval"
    )
    assert sorted(r.status for r in rows) == ["cancelled", "cancelled", "sent"]
    [note] = await _notes(db, agent, "listing_sold")
    assert note.message == "Sold: 5127 SW 88th Place, Ocala is sold out. 5 drafts withdrawn."
    assert note.related_entity_id == ocala.id
    assert scraper.events.sold == [[ocala.id]]
    assert scraper.events.prices == []  # a sold home gets no price-drop event


async def test_a_home_first_seen_sold_is_saved_but_not_announced(scraper: Scraper) -> None:
    agent = await _agent(scraper.database)
    summary = await scraper.run()
    palm_bay = await scraper.listing(PALM_BAY)
    assert palm_bay.status == "sold" and summary.sold == 0
    assert PALM_BAY in await _assigned(scraper.database, agent)
    notes = await _notes(scraper.database, agent, "listing_ingested")
    assert all(n.related_entity_id != palm_bay.id for n in notes)
    assert await _notes(scraper.database, agent, "listing_sold") == []


async def test_missing_twice_goes_off_market_and_comes_back(scraper: Scraper) -> None:
    db = scraper.database
    agent = await _agent(db)
    await scraper.run()
    cape = await scraper.listing(CAPE_CORAL)
    async with db.unit_of_work() as session:
        piece = await make_piece(session, agent, cape)
    lastmod = scraper.site.lastmod(CAPE_CORAL)
    scraper.site.remove_home(CAPE_CORAL)

    once = await scraper.run()
    row = await scraper.listing(CAPE_CORAL)
    assert (row.status, row.missed_passes, once.sold, once.off_market) == ("active", 1, 0, 0)
    assert (await _piece(db, piece.id)).status == "pending_approval_agent"

    twice = await scraper.run()
    row = await scraper.listing(CAPE_CORAL)
    assert (row.status, row.missed_passes, twice.sold, twice.off_market) == ("off_market", 2, 1, 1)
    assert (await _piece(db, piece.id)).status == "rejected"
    async with db.unit_of_work() as session:
        [log] = (await session.execute(select(ApprovalLog))).scalars().all()
    assert log.feedback == WITHDRAWN_OFF_MARKET and log.from_status == "pending_approval_agent"
    [note] = await _notes(db, agent, "listing_sold")
    assert note.message == (
        "Off the market: 918 NW 14th Terrace, Cape Coral is no longer on the builder's site. "
        "1 draft withdrawn."
    )
    assert scraper.events.sold == [[cape.id]]

    # gone for good costs nothing more
    with record_statements(db.engine) as sql:
        third = await scraper.run()
    assert sql.writes == [] and third.sold == 0

    # back in the sitemap (same lastmod): fetched again, and active once more
    scraper.site.add_home(
        CAPE_CORAL, (FIXTURES / "homes" / f"{CAPE_CORAL}.html").read_text(), lastmod
    )
    scraper.site.reset_counts()
    back = await scraper.run()
    row = await scraper.listing(CAPE_CORAL)
    assert (row.status, row.missed_passes, back.changed) == ("active", 0, 1)
    assert scraper.site.hits[f"/new-homes-for-sale/{CAPE_CORAL}/"] == 1


async def test_missing_once_then_back_resets_the_count_without_refetching(
    scraper: Scraper,
) -> None:
    await scraper.run()
    lastmod = scraper.site.lastmod(MILTON)
    scraper.site.remove_home(MILTON)
    await scraper.run()
    assert (await scraper.listing(MILTON)).missed_passes == 1
    scraper.site.add_home(MILTON, (FIXTURES / "homes" / f"{MILTON}.html").read_text(), lastmod)
    scraper.site.reset_counts()
    summary = await scraper.run()
    row = await scraper.listing(MILTON)
    assert (row.missed_passes, row.status, summary.changed) == (0, "active", 0)
    assert not any(p.startswith("/new-homes-for-sale/") for p in scraper.site.hits)


async def test_a_crash_in_the_second_batch_leaves_whole_batches_and_the_next_pass_finishes(
    scraper: Scraper, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = scraper.database
    agent = await _agent(db)
    scraper.site.add_synthetic_homes(5)
    real = ingest_repo.assign_listings
    calls = 0

    async def crash_on_second_batch(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("database went away")
        await real(*args, **kwargs)

    monkeypatch.setattr(ingest_repo, "assign_listings", crash_on_second_batch)
    with pytest.raises(RuntimeError, match="went away"):
        await scraper.run(batch_size=4)
    assert not scrape_running()

    saved = await scraper.listings()
    assert len(saved) == 4  # the first batch, whole; the second rolled back entirely
    assert all(row.source_lastmod is not None and row.content_hash for row in saved.values())
    assert await _assigned(db, agent) == set(saved)
    assert len(await _notes(db, agent, "listing_ingested")) == len(
        [r for r in saved.values() if r.status != "sold"]
    )

    monkeypatch.setattr(ingest_repo, "assign_listings", real)
    scraper.site.reset_counts()
    summary = await scraper.run(batch_size=4)
    assert (summary.new, summary.failed) == (8, 0)
    fetched = {p.split("/")[2] for p in scraper.site.hits if p.startswith("/new-homes-for-sale/")}
    assert fetched.isdisjoint(saved) and len(fetched) == 8
    assert len(await scraper.listings()) == 12
    assert len(await _assigned(db, agent)) == 12


async def test_only_one_pass_at_a_time(scraper: Scraper) -> None:
    scraper.site.latency = 0.05
    running = asyncio.create_task(scraper.run())
    while not scrape_running():
        await asyncio.sleep(0.005)
    with pytest.raises(ScrapeAlreadyRunning, match="already running"):
        await scraper.run()
    summary = await running
    assert summary.new == 7 and not scrape_running()

    lock = asyncio.Lock()
    async with lock:
        with pytest.raises(ScrapeAlreadyRunning):
            await scraper.run(lock=lock)


async def test_an_agent_added_later_gets_the_homes_on_the_market(scraper: Scraper) -> None:
    await scraper.run()
    late = await _agent(scraper.database, [("city", "Palm Bay"), ("city", "Jacksonville")])
    everyone = await _agent(scraper.database)
    async with scraper.database.unit_of_work() as session:
        assert await assign_existing_listings(session, late.id) == 1
        assert await assign_existing_listings(session, late.id) == 0  # idempotent
        assert await assign_existing_listings(session, everyone.id) == 6
    assert await _assigned(scraper.database, late) == {JACKSONVILLE}  # Palm Bay is sold
    assert PALM_BAY not in await _assigned(scraper.database, everyone)
