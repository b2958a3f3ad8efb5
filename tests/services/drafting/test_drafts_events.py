"""New homes and price drops become drafts: one per assigned agent, exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from db.base import utcnow
from db.models import AgentListing, Listing
from services.context import Database
from services.drafting.draft_writing import WriterGate
from services.drafting.listing_drafts import DraftMaker
from services.generation.builtin_writer import BuiltinWriter
from services.generation.openai_writer import OpenAIWriter
from services.scraping.listing_events import PriceChange
from tests.fakes.openai_server import FakeOpenAI
from tests.services.drafting.conftest import (
    agents,
    drop_price,
    new_home,
    notifications,
    pieces,
    versions,
)

IMAGES = [f"https://holidaybuilders.com/wp-content/uploads/photo-{i}.jpg" for i in range(12)]


def openai_writer(fake: FakeOpenAI) -> OpenAIWriter:
    return OpenAIWriter(api_key="sk-test", base_url=fake.base_url, model="gpt-4o-mini")


async def test_new_listing_one_draft_per_assigned_agent(database: Database) -> None:
    a1, a2, outsider = await agents(database, 3)
    listing = await new_home(database, a1, a2, image_urls=IMAGES, price=349_990)
    maker = DraftMaker(database, BuiltinWriter())

    run = await maker.new_listings([listing.id])

    assert len(run.created) == 2 and run.failed == 0
    made = await pieces(database)
    assert {p.agent_id for p in made} == {a1.id, a2.id}
    for piece in made:
        assert piece.listing_id == listing.id
        assert piece.content_type == "social_media_post"
        assert piece.purpose == "new_listing"
        assert piece.status == "pending_approval_agent"
        assert piece.version == 1 and piece.writer == "builtin"
        assert piece.associated_image_urls == IMAGES[:10]
        assert isinstance(piece.warnings, list)
        assert all({"kind", "message"} <= set(w) for w in piece.warnings)
        for platform in ("facebook_text", "instagram_text"):
            text = piece.generated_text[platform]
            assert "$349,990" in text, text
            assert "Sunrise Realty" in text and "Equal Housing Opportunity" in text
        assert listing.address in piece.generated_text["facebook_text"]
        (v1,) = await versions(database, piece.id)
        assert v1.version == 1 and v1.feedback is None
        assert v1.generated_text == piece.generated_text and v1.writer == "builtin"
    notes = await notifications(database)
    assert sorted((n.agent_id, n.related_entity_id) for n in notes) == sorted(
        (p.agent_id, p.id) for p in made
    )
    assert all(n.notification_type == "content_awaiting_approval" for n in notes)
    assert all(listing.address in n.message for n in notes)
    assert outsider.id not in {n.agent_id for n in notes}


async def test_the_scrape_hook_protocol(database: Database) -> None:
    (agent,) = await agents(database, 1)
    home = await new_home(database, agent, price=349_990)
    maker = DraftMaker(database, BuiltinWriter())
    assert await maker.on_new([home.id]) is None
    old, new = await drop_price(database, home, "339990")
    await maker.on_price_change([PriceChange(home.id, old, new)])
    await maker.on_sold([home.id])
    assert sorted(p.purpose for p in await pieces(database)) == [
        "new_listing",
        "price_improvement",
    ]


async def test_new_listing_is_idempotent(database: Database) -> None:
    a1, a2 = await agents(database, 2)
    listing = await new_home(database, a1, a2)
    maker = DraftMaker(database, BuiltinWriter())
    await asyncio.gather(
        maker.new_listings([listing.id]), maker.new_listings([listing.id]), maker.backfill()
    )
    again = await maker.new_listings([listing.id])
    # A second process (its own in-memory state) is held off by the row lock + re-check.
    other = DraftMaker(database, BuiltinWriter())
    await asyncio.gather(
        other.new_listings([listing.id]), DraftMaker(database, BuiltinWriter()).backfill()
    )

    assert again.created == [] and again.skipped == 2
    made = await pieces(database)
    assert sorted(p.agent_id for p in made) == sorted([a1.id, a2.id])
    assert len(await notifications(database)) == 2


async def test_two_processes_at_once_write_one_draft(database: Database) -> None:
    (agent,) = await agents(database, 1)
    listing = await new_home(database, agent)
    makers = [DraftMaker(database, BuiltinWriter()) for _ in range(4)]
    runs = await asyncio.gather(*(m.new_listings([listing.id]) for m in makers))
    assert sum(len(r.created) for r in runs) == 1
    assert len(await pieces(database)) == 1


async def test_inactive_agents_and_sold_homes_get_no_draft(database: Database) -> None:
    active, inactive = await agents(database, 2)
    async with database.unit_of_work() as s:
        await s.execute(
            update(type(inactive)).where(type(inactive).id == inactive.id).values(is_active=False)
        )
    listing = await new_home(database, active, inactive)
    sold = await new_home(database, active, status="sold")
    run = await DraftMaker(database, BuiltinWriter()).new_listings([listing.id, sold.id])
    assert len(run.created) == 1
    (piece,) = await pieces(database)
    assert piece.agent_id == active.id and piece.listing_id == listing.id


async def test_price_drop_writes_a_price_improvement_post(database: Database) -> None:
    a1, a2 = await agents(database, 2)
    listing = await new_home(database, a1, a2, price=349_990)
    maker = DraftMaker(database, BuiltinWriter())
    old, new = await drop_price(database, listing, "329990")

    run = await maker.price_drops([(listing.id, old, new)])

    assert len(run.created) == 2
    made = await pieces(database, purpose="price_improvement")
    assert {p.agent_id for p in made} == {a1.id, a2.id}
    for piece in made:
        text = piece.generated_text["facebook_text"]
        assert "$329,990" in text and "$349,990" in text, text
        assert piece.status == "pending_approval_agent"
        assert not [w for w in piece.warnings if w["kind"] == "facts"], piece.warnings
    notes = await notifications(database)
    assert all("now $329,990 (was $349,990)" in n.message for n in notes)

    # The same change reported again (a replayed pass) writes nothing.
    again = await maker.price_drops([(listing.id, old, new)])
    assert again.created == []
    assert len(await pieces(database)) == 2

    # A later, further drop is news again.
    old2, new2 = await drop_price(database, listing, "319990")
    later = await maker.price_drops([(listing.id, old2, new2)])
    assert len(later.created) == 2
    # ...and the first event, arriving late, is stale now: the price moved on.
    stale = await maker.price_drops([(listing.id, old, new)])
    assert stale.created == []
    assert len(await pieces(database, purpose="price_improvement")) == 4


async def test_price_increase_writes_nothing(database: Database) -> None:
    (agent,) = await agents(database, 1)
    listing = await new_home(database, agent, price=349_990)
    async with database.unit_of_work() as s:
        await s.execute(update(Listing).where(Listing.id == listing.id).values(price=359_990))
    run = await DraftMaker(database, BuiltinWriter()).price_drops(
        [(listing.id, listing.price, listing.price + 10_000)]  # type: ignore[operator]
    )
    assert run.created == [] and await pieces(database) == []


async def test_generation_failure_writes_nothing_and_backfill_retries(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    (agent,) = await agents(database, 1)
    listing = await new_home(database, agent)
    writer = openai_writer(fake_openai)
    maker = DraftMaker(database, writer)
    fake_openai.script("refusal", "refusal")  # the writer asks twice, then gives up

    run = await maker.new_listings([listing.id])

    assert run.created == [] and run.failed == 1 and maker.failures == 1
    assert "OpenAI did not return a usable draft" in run.errors[0]
    assert await pieces(database) == [] and await notifications(database) == []

    retry = await maker.backfill()
    assert len(retry.created) == 1 and retry.failed == 0
    (piece,) = await pieces(database)
    assert piece.writer == "openai:gpt-4o-mini" and piece.agent_id == agent.id
    assert len(await notifications(database)) == 1
    assert (await maker.backfill()).created == []
    await writer.aclose()


async def test_a_failure_no_retry_can_fix_stops_the_pass(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    (agent,) = await agents(database, 1)
    homes = [await new_home(database, agent) for _ in range(3)]
    writer = openai_writer(fake_openai)
    fake_openai.script("auth_error")
    maker = DraftMaker(database, writer, gate=WriterGate(1))
    run = await maker.new_listings([h.id for h in homes])
    assert run.failed == 3 and run.created == []
    assert len(fake_openai.requests) == 1  # the other two never called OpenAI
    assert "API key" in run.errors[0]
    await writer.aclose()


async def test_backfill_recovers_what_a_crash_lost(database: Database) -> None:
    (agent,) = await agents(database, 1)
    fresh = await new_home(database, agent)  # ingest committed; drafting never ran
    old = await new_home(database, agent)
    gone = await new_home(database, agent, status="sold")
    seen_long_ago = await new_home(database, agent)  # an agent newly given an old home
    async with database.unit_of_work() as s:
        await s.execute(
            update(AgentListing)
            .where(AgentListing.listing_id == old.id)
            .values(assigned_at=utcnow() - timedelta(days=30))
        )
        await s.execute(
            update(Listing)
            .where(Listing.id == seen_long_ago.id)
            .values(scraped_at=utcnow() - timedelta(days=30))
        )
    dropped = await new_home(database, agent, price=299_990)
    await DraftMaker(database, BuiltinWriter()).new_listings([dropped.id])
    await drop_price(database, dropped, "289990")  # the crash came before the price hook ran

    run = await DraftMaker(database, BuiltinWriter()).backfill()

    assert len(run.created) == 2
    made = {(p.listing_id, p.purpose) for p in await pieces(database)}
    assert (fresh.id, "new_listing") in made
    assert (dropped.id, "price_improvement") in made
    assert not {old.id, gone.id, seen_long_ago.id} & {lid for lid, _ in made}
    assert (await DraftMaker(database, BuiltinWriter()).backfill()).created == []
