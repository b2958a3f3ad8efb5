"""Whole conversations through the real PTB Application and the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import TypeHandler

from db.models import Agent, ApprovalLog, ContentPiece, PostSchedule
from db.repositories import agents as agents_repo
from tests.bot.conftest import ADMIN_ID, BotHarness
from tests.factories import make_account, make_agent, make_piece
from tests.fakes.telegram_api import EDIT_METHODS, FakeMessage


async def _piece(h: BotHarness, piece_id: object) -> ContentPiece:
    async with h.database.unit_of_work() as s:
        row = await s.get(ContentPiece, piece_id)
    assert row is not None
    return row


async def test_invite_link_start_draft_approve(harness: BotHarness) -> None:
    h = harness
    admin = h.fake.user(ADMIN_ID, "Broker")
    await admin.send_command("/addagent", "chris@example.com Chris Doe")
    reply = await admin.next_message()
    m = re.search(r"https://t\.me/rltr_mktg_test_bot\?start=([A-Za-z0-9_-]+)", reply.content)
    assert m, reply.content

    chris = h.fake.user(4242, "Chris")
    await chris.send_command("/start", m.group(1))
    welcome = await chris.next_message()
    assert "Welcome, Chris Doe" in welcome.content
    async with h.database.unit_of_work() as s:
        agent = (await s.execute(select(Agent))).scalar_one()
        await make_account(s, agent, "facebook", display_name="Chris Sells Ocala")
        piece = await make_piece(s, agent)
    assert agent.telegram_user_id == 4242 and agent.telegram_chat_id == 4242

    stats = await h.deliver()
    assert stats.sent == 1
    photo = await chris.next_message()
    assert photo.photo is not None
    draft = await chris.next_message()
    assert any("Approve" in b for b in draft.button_labels)
    assert any("Revise" in b for b in draft.button_labels)
    assert any("Reject" in b for b in draft.button_labels)
    assert "New home in Ocala" in draft.content and "$349,990" in draft.content

    old_approve = _first_data(draft, "Approve")
    qid = await chris.tap(draft.message_id, "Approve")
    answer = await h.fake.wait_answer(qid)
    assert answer.answered
    await chris.wait_for(lambda: draft.edits or None)
    assert "Approved" in draft.content and "Chris Sells Ocala" in draft.content
    # the edit went out as HTML (the application's default), its tags rendered
    assert draft.parse_mode == "HTML" and "<b>" not in (draft.text or "") and draft.entities
    assert any("Post now" in b for b in draft.button_labels)
    assert any("Cancel" in b for b in draft.button_labels)
    row = await _piece(h, piece.id)
    assert row.status == "approved_for_posting"
    async with h.database.unit_of_work() as s:
        logs = (await s.execute(select(ApprovalLog.action_type))).scalars().all()
        schedule = (await s.execute(select(PostSchedule))).scalars().all()
    assert logs == ["approved"] and len(schedule) == 1

    # a replayed tap of the old Approve button changes nothing and says why
    qid = await chris.tap_data(draft.message_id, old_approve)
    assert "already approved" in ((await h.fake.wait_answer(qid)).text or "")
    # an altered button (Post now's signature under the Approve code) is refused
    forged = _first_data(draft, "Post now").replace("p:", "a:", 1)
    qid = await chris.tap_data(draft.message_id, forged)
    assert "not valid" in ((await h.fake.wait_answer(qid)).text or "")
    async with h.database.unit_of_work() as s:
        assert (await s.execute(select(func.count()).select_from(ApprovalLog))).scalar() == 1


def _first_data(message: object, label: str) -> str:
    return str(message.button(label)["callback_data"])  # type: ignore[attr-defined]


async def test_double_tap_acts_once(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=5151)
        piece = await make_piece(s, agent, generated_text={"headline": "Hi", "body": "x"})
    user = h.fake.user(5151)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    q1 = await user.tap(draft.message_id, "Reject")
    q2 = await user.tap(draft.message_id, "Reject")
    a1, a2 = await h.fake.wait_answer(q1), await h.fake.wait_answer(q2)
    texts = sorted([a1.text or "", a2.text or ""])
    assert any("Rejected" in t for t in texts) and any("Nothing changed" in t for t in texts)
    assert (await _piece(h, piece.id)).status == "rejected"
    async with h.database.unit_of_work() as s:
        assert (await s.execute(select(func.count()).select_from(ApprovalLog))).scalar() == 1


async def test_the_draft_shows_its_new_state_even_when_the_answer_fails(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Answer and edit go out side by side; a late tap's refused answer keeps neither back."""
    h = harness
    caplog.set_level(logging.INFO, logger="bot")
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=5252)
        await make_account(s, agent, "facebook", display_name="Chris Sells Ocala")
        piece = await make_piece(s, agent)
    user = h.fake.user(5252)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    h.fake.fail_next(
        "answerCallbackQuery",
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    await user.tap(draft.message_id, "Approve")
    await user.wait_for(lambda: draft.edits or None)
    assert "Approved" in draft.content and any("Post now" in b for b in draft.button_labels)
    assert (await _piece(h, piece.id)).status == "approved_for_posting"
    answers = [c for c in h.fake.calls if c.method.lower() == "answercallbackquery"]
    assert [c.status for c in answers] == [400]
    # A refused answer is logged, and is no error to report to the admins.
    await user.wait_for(
        lambda: any(r.getMessage() == "could not answer tap" for r in caplog.records) or None
    )
    assert not [r for r in caplog.records if r.getMessage() == "unhandled error"]


async def test_taps_arriving_together_schedule_different_slots(harness: BotHarness) -> None:
    """A phone back online delivers its queued taps at once; each post gets its own slot."""
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=5353)
        await make_account(s, agent, "facebook", display_name="Chris Sells Ocala")
        pieces = [await make_piece(s, agent) for _ in range(4)]
    user = h.fake.user(5353)  # the agent opened the chat with the bot
    await h.deliver()

    def all_drafts() -> list[FakeMessage] | None:
        found = [m for m in user.messages if m.buttons]
        return found if len(found) == len(pieces) else None

    drafts = await user.wait_for(all_drafts)
    await asyncio.gather(*(user.tap(d.message_id, "Approve") for d in drafts))
    for d in drafts:
        await user.wait_for(lambda d=d: d.edits or None)
        assert "Approved" in d.content
    async with h.database.unit_of_work() as s:
        slots = (await s.execute(select(PostSchedule.scheduled_at))).scalars().all()
        statuses = (
            (await s.execute(select(ContentPiece.status).where(ContentPiece.agent_id == agent.id)))
            .scalars()
            .all()
        )
    assert len(slots) == len(set(slots)) == len(pieces)
    assert set(statuses) == {"approved_for_posting"}


async def test_revise_asks_then_feedback_message_is_recorded(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=6161)
        piece = await make_piece(s, agent)
    user = h.fake.user(6161)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    qid = await user.tap(draft.message_id, "Revise")
    await h.fake.wait_answer(qid)
    prompt = await user.wait_message(lambda m: m.force_reply)
    assert "What should change" in prompt.content
    await user.send_text("Shorter please, and mention the clubhouse", reply_to=prompt.message_id)
    ack = await user.wait_message(lambda m: "rewriting" in m.content.lower())
    assert ack is not None
    row = await _piece(h, piece.id)
    assert row.status == "pending_ai_revision"
    assert row.feedback == "Shorter please, and mention the clubhouse"


async def test_marketing_sign_off_button(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=7171, requires_marketing_approval=True)
        piece = await make_piece(s, agent)
    user = h.fake.user(7171)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    await h.fake.wait_answer(await user.tap(draft.message_id, "Approve"))
    await user.wait_for(lambda: draft.edits or None)
    assert "marketing sign-off" in draft.content
    assert (await _piece(h, piece.id)).status == "pending_external_marketing_approval"
    await h.fake.wait_answer(await user.tap(draft.message_id, "Marketing approved"))
    await user.wait_for(lambda: len(draft.edits) >= 2 or None)
    assert (await _piece(h, piece.id)).status == "approved_for_posting"
    async with h.database.unit_of_work() as s:
        actions = (
            (await s.execute(select(ApprovalLog.action_type).order_by(ApprovalLog.timestamp)))
            .scalars()
            .all()
        )
    assert actions == ["sent_to_marketing", "recorded_marketing_approval"]


async def test_forged_and_foreign_taps_change_nothing(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=8181)
        piece = await make_piece(s, agent)
    user = h.fake.user(8181)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    data = _first_data(draft, "Approve")
    forged = data[:-3] + ("AAA" if not data.endswith("AAA") else "BBB")
    answer = await h.fake.wait_answer(await user.tap_data(draft.message_id, forged))
    assert "not valid" in (answer.text or "")
    answer = await h.fake.wait_answer(await user.tap_data(draft.message_id, "garbage"))
    assert "not valid" in (answer.text or "")
    assert (await _piece(h, piece.id)).status == "pending_approval_agent"


async def test_stranger_and_non_admin(harness: BotHarness) -> None:
    h = harness
    stranger = h.fake.user(31337, "Eve")
    await stranger.send_command("/start")
    reply = await stranger.next_message()
    assert "ask your administrator for an invite" in reply.content
    await stranger.send_command("/addagent", "eve@example.com Eve")
    refused = await stranger.next_message()
    assert "for administrators" in refused.content
    await stranger.send_command("/start", "not-a-real-token")
    bad = await stranger.next_message()
    assert "not valid" in bad.content
    async with h.database.unit_of_work() as s:
        assert (await s.execute(select(func.count()).select_from(Agent))).scalar() == 0


async def test_a_deactivated_agent_is_told_and_nothing_changes(harness: BotHarness) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=8282)
        await make_account(s, agent, "facebook")
        piece = await make_piece(s, agent)
    user = h.fake.user(8282)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    async with h.database.unit_of_work() as s:
        await agents_repo.update_agent(s, agent.id, is_active=False)
    for label in ("Approve", "Flyer text", "Reject"):
        answer = await h.fake.wait_answer(await user.tap(draft.message_id, label))
        assert answer.text == "Your account is deactivated; ask your administrator.", label
    assert (await _piece(h, piece.id)).status == "pending_approval_agent"
    assert draft.edits == []  # its buttons stay, for when an administrator reactivates it
    async with h.database.unit_of_work() as s:
        assert (await s.execute(select(func.count()).select_from(ContentPiece))).scalar() == 1
        assert (await s.execute(select(func.count()).select_from(PostSchedule))).scalar() == 0


class _Handled:
    """Callback queries whose handlers have returned: a last handler group sees each update
    only after the draft button's handler is done with it."""

    def __init__(self, h: BotHarness) -> None:
        self.ids: set[str] = set()
        self._changed = asyncio.Event()
        h.app.add_handler(TypeHandler(Update, self._record), group=99)

    async def _record(self, update: object, context: object) -> None:
        if isinstance(update, Update) and update.callback_query is not None:
            self.ids.add(update.callback_query.id)
            self._changed.set()

    async def wait(self, query_id: str) -> None:
        async with asyncio.timeout(5):
            while query_id not in self.ids:
                self._changed.clear()
                await self._changed.wait()


async def test_a_second_tap_on_a_decided_draft_makes_no_edit_call(harness: BotHarness) -> None:
    """The message shows no buttons any more: re-drawing it can only fail with 400."""
    h = harness
    handled = _Handled(h)
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=5454)
        await make_piece(s, agent)
    user = h.fake.user(5454)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    reject = _first_data(draft, "Reject")
    first = await user.tap(draft.message_id, "Reject")
    await handled.wait(first)
    assert draft.buttons == [] and "Rejected" in draft.content
    edits = [c for c in h.fake.calls if c.method in EDIT_METHODS]
    assert [(c.method, c.status) for c in edits] == [("editMessageText", 200)]

    # The phone had not redrawn yet: the old button is tapped again.
    before = len(h.fake.calls)
    second = await user.tap_data(draft.message_id, reject)
    answer = await h.fake.wait_answer(second)
    await handled.wait(second)
    assert "Nothing changed" in (answer.text or "")
    assert [c for c in h.fake.calls if c.method in EDIT_METHODS] == edits
    after = [(c.method, c.status) for c in h.fake.calls[before:] if c.method != "getUpdates"]
    assert after == [("answerCallbackQuery", 200)]


async def test_a_stale_tap_still_takes_outdated_buttons_away(harness: BotHarness) -> None:
    """Only edits that change nothing are skipped: old buttons on screen are replaced."""
    h = harness
    handled = _Handled(h)
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=5455)
        piece = await make_piece(s, agent)
    user = h.fake.user(5455)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    async with h.database.unit_of_work() as s:  # decided elsewhere (e.g. a second device)
        await s.execute(
            ContentPiece.__table__.update()
            .where(ContentPiece.id == piece.id)
            .values(status="rejected")
        )
    qid = await user.tap(draft.message_id, "Approve")
    await handled.wait(qid)
    assert "already rejected" in (h.fake.callbacks[qid].text or "")
    assert draft.buttons == []
    assert [(c.method, c.status) for c in h.fake.calls if c.method in EDIT_METHODS] == [
        ("editMessageReplyMarkup", 200)
    ]
