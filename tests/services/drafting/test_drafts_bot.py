"""Drafts through the real bot: a new home reaches the agent, feedback brings a new version,
the flyer button writes a flyer, and leftovers are rewritten after a restart."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from sqlalchemy import select, update
from telegram.ext import CallbackContext

from bot.jobs.regenerate_job import regenerate_job
from db.models import ApprovalLog, ContentPiece, Notification
from services.drafting.listing_drafts import DraftMaker
from services.generation.openai_writer import OpenAIWriter
from tests.bot.conftest import BotHarness
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeMessage, FakeUser
from tests.services.drafting.conftest import agents, new_home, pieces, versions

# Emoji and pictographs, as an agent would recognise them.
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


def maker(h: BotHarness) -> DraftMaker:
    found = h.runtime.listing_events
    assert isinstance(found, DraftMaker)
    assert h.runtime.draft_maker is found
    return found


async def _first_draft(h: BotHarness, tg_id: int) -> tuple[FakeUser, FakeMessage, ContentPiece]:
    """An agent with a chat, a new home assigned to them, and its draft on their phone."""
    (agent,) = await agents(h.database, 1, telegram_user_id=tg_id)
    user = h.fake.user(tg_id)  # the agent opened the chat with the bot
    listing = await new_home(h.database, agent)
    run = await maker(h).new_listings([listing.id])  # pushes the draft itself, no deliver round
    assert len(run.created) == 1
    draft = await user.wait_message(lambda m: bool(m.buttons))
    (piece,) = await pieces(h.database)
    return user, draft, piece


async def test_new_home_reaches_the_agent(harness: BotHarness) -> None:
    h = harness
    user, draft, piece = await _first_draft(h, 7001)
    photo = user.messages[0]
    assert photo.photo is not None and "Photos for" in photo.content
    assert "New listing post" in draft.content and "v1" in draft.content
    assert "$349,990" in draft.content and "Equal Housing Opportunity" in draft.content
    for word in ("Approve", "Revise", "Reject", "Flyer text"):
        assert draft.button(word)
    async with h.database.unit_of_work() as s:
        row = await s.get(ContentPiece, piece.id)
        note = (await s.execute(select(Notification))).scalar_one()
    assert row is not None and row.delivered_version == 1
    assert row.telegram_message_id == draft.message_id
    assert note.related_entity_id == piece.id and note.delivery_status == "sent"


async def _revise(user: FakeUser, h: BotHarness, draft: FakeMessage, feedback: str) -> float:
    """Tap Revise, send the feedback; returns the feedback message's time."""
    await h.fake.wait_answer(await user.tap(draft.message_id, "Revise"))
    prompt = await user.wait_message(lambda m: m.force_reply)
    sent = await user.send_text(feedback, reply_to=prompt.message_id)
    return sent.sent_at


async def test_revision_through_the_bot(harness: BotHarness) -> None:
    h = harness
    user, draft, piece = await _first_draft(h, 7002)

    started = await _revise(user, h, draft, "shorter, no emojis")
    v2 = await user.wait_message(lambda m: "· v2" in m.content and bool(m.buttons), timeout=2.0)
    turnaround = v2.sent_at - started
    print(f"\nrevision turnaround through the bot (built-in writer): {turnaround * 1000:.0f} ms")
    assert turnaround < 2.0

    assert "shorter, no emojis" in v2.content  # "Rewritten from your feedback: …"
    await user.wait_for(
        lambda: "Replaced by the message below (version 2)" in draft.content or None
    )
    assert draft.buttons == []
    async with h.database.unit_of_work() as s:
        row = await s.get(ContentPiece, piece.id)
        logs = (await s.execute(select(ApprovalLog))).scalars().all()
    assert row is not None and row.version == 2 and row.status == "pending_approval_agent"
    assert row.telegram_message_id == v2.message_id and row.delivered_version == 2
    assert not EMOJI.search(row.generated_text["instagram_text"])
    assert len(row.generated_text["body"]) < len(piece.generated_text["body"])
    v = await versions(h.database, piece.id)
    assert [(x.version, x.feedback) for x in v] == [(1, None), (2, "shorter, no emojis")]
    assert v[1].generated_text == row.generated_text
    assert [(log.action_type, log.feedback) for log in logs] == [
        ("requested_revisions", "shorter, no emojis")
    ]

    # The new version's buttons work: approve it.
    await h.fake.wait_answer(await user.tap(v2.message_id, "Approve"))
    assert (await pieces(h.database))[0].status == "approved_for_posting"


async def test_regenerate_job_picks_up_leftovers_after_a_restart(harness: BotHarness) -> None:
    h = harness
    user, draft, piece = await _first_draft(h, 7003)
    # The previous process recorded the feedback and died before rewriting.
    async with h.database.unit_of_work() as s:
        await s.execute(
            update(ContentPiece)
            .where(ContentPiece.id == piece.id)
            .values(status="pending_ai_revision", feedback="mention the clubhouse")
        )

    await regenerate_job(CallbackContext(h.app))

    v2 = await user.wait_message(lambda m: "· v2" in m.content and bool(m.buttons))
    assert "clubhouse" in v2.content.lower()
    await user.wait_for(
        lambda: "Replaced by the message below (version 2)" in draft.content or None
    )
    v = await versions(h.database, piece.id)
    assert [(x.version, x.feedback) for x in v] == [(1, None), (2, "mention the clubhouse")]
    # Nothing left: a second run does nothing.
    await regenerate_job(CallbackContext(h.app))
    assert len(await versions(h.database, piece.id)) == 2


async def _settled(
    h: BotHarness, done: Callable[[list[ContentPiece]], object], timeout: float = 2.0
) -> list[ContentPiece]:
    """Flyer pieces once `done(pieces)` holds (the message arrives just before the commit)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await pieces(h.database, content_type="flyer_text")
        if done(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


async def test_flyer_button(harness: BotHarness) -> None:
    h = harness
    user, draft, piece = await _first_draft(h, 7004)

    answer = await h.fake.wait_answer(await user.tap(draft.message_id, "Flyer"))
    assert answer.text == "Writing a flyer…"
    flyer = await user.wait_message(lambda m: "Flyer text" in m.content and bool(m.buttons))
    assert "Equal Housing Opportunity" in flyer.content and "$349,990" in flyer.content
    assert not [b for b in flyer.button_labels if "Flyer" in b]  # no flyer of a flyer
    made = await _settled(h, lambda ps: ps and ps[0].telegram_message_id is not None)
    assert len(made) == 1 and made[0].purpose == "flyer"
    assert made[0].listing_id == piece.listing_id and made[0].agent_id == piece.agent_id
    assert made[0].telegram_message_id == flyer.message_id

    again = await h.fake.wait_answer(await user.tap(draft.message_id, "Flyer"))
    assert "already waiting" in (again.text or "") and again.show_alert
    assert len(await pieces(h.database, content_type="flyer_text")) == 1


async def test_flyer_button_refuses_forged_data(harness: BotHarness) -> None:
    h = harness
    user, draft, _ = await _first_draft(h, 7005)
    data = str(draft.button("Flyer")["callback_data"])
    answer = await h.fake.wait_answer(await user.tap_data(draft.message_id, data[:-2] + "zz"))
    assert "not valid" in (answer.text or "")
    assert await pieces(h.database, content_type="flyer_text") == []


async def test_revision_with_the_openai_writer_through_the_bot(
    openai_harness: tuple[BotHarness, FakeOpenAI],
) -> None:
    h, fake = openai_harness
    assert isinstance(h.runtime.writer, OpenAIWriter)
    user, draft, piece = await _first_draft(h, 7006)
    assert piece.writer == "openai:gpt-4o-mini"
    fake.reset()

    started = time.monotonic()
    await _revise(user, h, draft, "Mention the open floor plan first")
    v2 = await user.wait_message(lambda m: "· v2" in m.content and bool(m.buttons))
    assert v2.sent_at - started < 2.0

    (request,) = fake.requests
    prompt = request.user_prompt
    assert "PREVIOUS VERSION (JSON):" in prompt
    assert piece.generated_text["headline"] in prompt
    assert "AGENT'S FEEDBACK:\nMention the open floor plan first" in prompt
    assert "LISTING FACTS (JSON):" in prompt and '"price": 349990' in prompt
    v = await versions(h.database, piece.id)
    assert v[1].feedback == "Mention the open floor plan first"
    assert v[1].writer == "openai:gpt-4o-mini" and (v[1].usage_tokens or 0) > 0
