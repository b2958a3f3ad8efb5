"""A token pasted as an ordinary message is deleted, kept nowhere and sent nowhere."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from db.base import Base
from services.drafting.listing_drafts import DraftMaker
from tests.bot.conftest import BotHarness
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeMessage, FakeUser
from tests.services.drafting.conftest import agents, new_home, pieces

TOKEN = "EAAGm0PX4ZCpsBAKZB8ZCwVZAGx2qjZBZCkd7ZBSwU9ZAo3iDNBZAxAZB1ZBxYZCZAKq3c0ZD"


async def _stored_anywhere(h: BotHarness, fragment: str) -> list[str]:
    """Every table and column whose value contains `fragment`."""
    found = []
    async with h.database.unit_of_work() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                found += [f"{table.name}.{k}" for k, v in row.items() if fragment in str(v)]
    return found


async def _deleted_with_a_pointer_to_connect(user: FakeUser, sent: FakeMessage) -> None:
    reply = await user.wait_message(lambda m: "/connect" in m.content and m.sent_at > sent.sent_at)
    assert "deleted your message" in reply.content and "access token" in reply.content
    assert user.message(sent.message_id).deleted


async def test_a_token_sent_instead_of_feedback_is_deleted_and_goes_nowhere(
    openai_harness: tuple[BotHarness, FakeOpenAI],
) -> None:
    h, openai = openai_harness
    (agent,) = await agents(h.database, 1, telegram_user_id=7101)
    user = h.fake.user(7101)
    maker = h.runtime.draft_maker
    assert isinstance(maker, DraftMaker)
    await maker.new_listings([(await new_home(h.database, agent)).id])
    draft = await user.wait_message(lambda m: bool(m.buttons))
    await h.fake.wait_answer(await user.tap(draft.message_id, "Revise"))
    await user.wait_message(lambda m: m.force_reply)
    openai.reset()

    # The agent meant to connect a Page and pasted the token without using Reply.
    sent = await user.send_text(f"here is my page token {TOKEN}")
    await _deleted_with_a_pointer_to_connect(user, sent)
    # Any other text the bot reads, e.g. a settings command.
    sent = await user.send_text(f"/times {TOKEN}")
    await _deleted_with_a_pointer_to_connect(user, sent)

    await asyncio.sleep(0.3)  # a rewrite started by the message would have called OpenAI
    assert openai.requests == []
    assert await _stored_anywhere(h, TOKEN[:24]) == []
    (piece,) = await pieces(h.database)
    assert piece.status == "pending_approval_agent" and piece.feedback is None

    # The Revise prompt still waits for real feedback, which works as before.
    await user.send_text("shorter please")
    v2 = await user.wait_message(lambda m: "· v2" in m.content and bool(m.buttons))
    assert "shorter please" in v2.content
    assert len(openai.requests) == 1 and TOKEN[:24] not in openai.requests[0].user_prompt
