"""Rewriting drafts from feedback, and flyers on request, at the service level."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from db.base import utcnow
from db.models import ContentPiece, Listing
from services import approval
from services.context import Database
from services.drafting.flyers import request_flyer
from services.drafting.listing_drafts import DraftMaker
from services.drafting.revisions import GAVE_UP, RETRY_BACKOFF, regenerate
from services.generation.builtin_writer import BuiltinWriter
from services.generation.openai_writer import OpenAIWriter
from tests.fakes.openai_server import Behaviour, FakeOpenAI
from tests.services.drafting.conftest import agents, drop_price, new_home, pieces, versions


async def _draft(database: Database, tg_id: int, **listing: object) -> ContentPiece:
    (agent,) = await agents(database, 1, telegram_user_id=tg_id)
    home = await new_home(database, agent, **listing)
    run = await DraftMaker(database, BuiltinWriter()).new_listings([home.id])
    (piece_id,) = run.created
    (piece,) = [p for p in await pieces(database) if p.id == piece_id]
    return piece


async def _feedback(database: Database, piece: ContentPiece, tg_id: int, text: str) -> None:
    async with database.unit_of_work() as s:
        accepted = await approval.submit_feedback(
            await s.connection(),
            telegram_user_id=tg_id,
            text=text,
            piece_id=piece.id,
            version=piece.version,
        )
    assert accepted is not None


async def _row(database: Database, piece_id: object) -> ContentPiece:
    async with database.unit_of_work() as s:
        row = await s.get(ContentPiece, piece_id)
    assert row is not None
    return row


async def test_openai_revision_sees_previous_version_feedback_and_facts(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    piece = await _draft(database, 8101)
    await _feedback(database, piece, 8101, "shorter, no emojis")
    writer = OpenAIWriter(api_key="sk-test", base_url=fake_openai.base_url, model="gpt-4o-mini")

    done = await regenerate(database, writer)

    assert done == [piece.id]
    (request,) = fake_openai.requests
    prompt = request.user_prompt
    assert "PREVIOUS VERSION (JSON):" in prompt and piece.generated_text["body"][:60] in prompt
    assert "AGENT'S FEEDBACK:\nshorter, no emojis" in prompt
    assert "LISTING FACTS (JSON):" in prompt and '"beds": 3' in prompt
    row = await _row(database, piece.id)
    assert (row.version, row.status, row.writer) == (
        2,
        "pending_approval_agent",
        "openai:gpt-4o-mini",
    )
    assert row.generation_attempts == 0 and row.last_error is None
    v = await versions(database, piece.id)
    assert [(x.version, x.feedback, x.writer) for x in v] == [
        (1, None, "builtin"),
        (2, "shorter, no emojis", "openai:gpt-4o-mini"),
    ]
    await writer.aclose()


async def test_failed_rewrites_are_retried_then_handed_back(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    piece = await _draft(database, 8102)
    async with database.unit_of_work() as s:  # v1 is on the agent's phone
        await s.execute(
            update(ContentPiece)
            .where(ContentPiece.id == piece.id)
            .values(delivered_version=1, telegram_message_id=55)
        )
    await _feedback(database, piece, 8102, "make it sparkle")
    writer = OpenAIWriter(api_key="sk-test", base_url=fake_openai.base_url, model="gpt-4o-mini")
    fake_openai.default = "refusal"

    assert await regenerate(database, writer, piece_ids=[piece.id]) == []  # right after feedback
    row = await _row(database, piece.id)
    assert row.status == "pending_ai_revision" and row.generation_attempts == 1
    assert row.last_error and "refused" in row.last_error

    # The job's sweep waits out the back-off before trying again...
    calls = len(fake_openai.requests)
    assert await regenerate(database, writer) == []
    assert len(fake_openai.requests) == calls
    assert (await _row(database, piece.id)).generation_attempts == 1
    for attempt in (2, 3):
        async with database.unit_of_work() as s:
            await s.execute(
                update(ContentPiece)
                .where(ContentPiece.id == piece.id)
                .values(updated_at=utcnow() - RETRY_BACKOFF * attempt)
            )
        done = await regenerate(database, writer)
        assert (await _row(database, piece.id)).generation_attempts == attempt

    # ...and after the third failure hands the draft back.
    assert done == [piece.id]
    row = await _row(database, piece.id)
    assert (row.status, row.version, row.generation_attempts) == ("pending_approval_agent", 1, 3)
    assert row.warnings is not None and row.warnings[0]["message"] == GAVE_UP
    assert row.delivered_version is None  # delivery shows it again, with the warning
    assert row.feedback is None  # v1's own feedback, not the one that failed
    assert len(await versions(database, piece.id)) == 1
    await writer.aclose()


async def test_a_rewrite_is_discarded_when_the_draft_moved_on(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    piece = await _draft(database, 8103)
    await _feedback(database, piece, 8103, "shorter")
    writer = OpenAIWriter(api_key="sk-test", base_url=fake_openai.base_url, model="gpt-4o-mini")
    fake_openai.script(Behaviour(kind="good", latency_s=0.3))

    task = asyncio.create_task(regenerate(database, writer))
    await asyncio.sleep(0.1)  # the writer is busy; the draft is withdrawn meanwhile
    async with database.unit_of_work() as s:
        await s.execute(
            update(ContentPiece).where(ContentPiece.id == piece.id).values(status="rejected")
        )

    assert await task == []
    row = await _row(database, piece.id)
    assert (row.status, row.version) == ("rejected", 1)
    assert len(await versions(database, piece.id)) == 1
    await writer.aclose()


async def test_revision_of_a_price_improvement_keeps_the_old_price(database: Database) -> None:
    (agent,) = await agents(database, 1, telegram_user_id=8104)
    home = await new_home(database, agent, price=349_990)
    maker = DraftMaker(database, BuiltinWriter())
    old, new = await drop_price(database, home, "329990")
    (piece_id,) = (await maker.price_drops([(home.id, old, new)])).created
    piece = await _row(database, piece_id)
    await _feedback(database, piece, 8104, "shorter")

    assert await maker.regenerate() == [piece_id]

    row = await _row(database, piece_id)
    text = row.generated_text["facebook_text"]
    assert row.version == 2 and "$329,990" in text and "$349,990" in text
    assert not [w for w in row.warnings or [] if w["kind"] == "facts"], row.warnings


async def test_flyer_on_request(database: Database) -> None:
    piece = await _draft(database, 8105)

    refused = await request_flyer(
        database, BuiltinWriter(), piece_id=piece.id, telegram_user_id=999
    )
    assert not refused.ok and "Only the agent" in refused.message

    made = await request_flyer(database, BuiltinWriter(), piece_id=piece.id, telegram_user_id=8105)
    assert made.ok and made.piece_id is not None
    flyer = await _row(database, made.piece_id)
    assert (flyer.content_type, flyer.purpose, flyer.status) == (
        "flyer_text",
        "flyer",
        "pending_approval_agent",
    )
    assert flyer.listing_id == piece.listing_id and flyer.agent_id == piece.agent_id
    assert {"headline", "bullets", "agent_contact"} <= set(flyer.generated_text)

    twice = await asyncio.gather(
        *(
            request_flyer(database, BuiltinWriter(), piece_id=piece.id, telegram_user_id=8105)
            for _ in range(2)
        )
    )
    assert all(r.already_pending and r.piece_id == made.piece_id for r in twice)

    async with database.unit_of_work() as s:
        await s.execute(
            update(ContentPiece).where(ContentPiece.id == made.piece_id).values(status="rejected")
        )
    again = await request_flyer(database, BuiltinWriter(), piece_id=piece.id, telegram_user_id=8105)
    assert again.ok and again.piece_id != made.piece_id


async def test_no_flyer_for_a_sold_home(database: Database) -> None:
    piece = await _draft(database, 8106)
    async with database.unit_of_work() as s:
        await s.execute(update(Listing).where(Listing.id == piece.listing_id).values(status="sold"))
    result = await request_flyer(
        database, BuiltinWriter(), piece_id=piece.id, telegram_user_id=8106
    )
    assert not result.ok and "no longer for sale" in result.message


async def test_a_draft_another_process_is_rewriting_is_left_to_it(database: Database) -> None:
    from datetime import timedelta

    from db.repositories import drafts as drafts_repo
    from services.drafting.revisions import REVISION_LEASE

    piece = await _draft(database, 8190)
    await _feedback(database, piece, 8190, "mention the pool")
    async with database.unit_of_work() as s:
        held = await drafts_repo.pieces_to_revise(
            s, piece_ids=None, limit=5, claim_until=utcnow() + REVISION_LEASE
        )
    assert [r.piece.id for r in held] == [piece.id]

    assert await regenerate(database, BuiltinWriter()) == []
    assert await regenerate(database, BuiltinWriter(), piece_ids=[piece.id]) == []
    assert (await _row(database, piece.id)).version == piece.version

    # That process crashed: once its lease is over the draft is rewritten here, once.
    async with database.unit_of_work() as s:
        await s.execute(
            update(ContentPiece)
            .where(ContentPiece.id == piece.id)
            .values(revision_claimed_until=utcnow() - timedelta(seconds=1))
        )
    assert await regenerate(database, BuiltinWriter()) == [piece.id]
    row = await _row(database, piece.id)
    assert row.version == piece.version + 1 and row.revision_claimed_until is None
