"""On the phone: the first decision's line takes the place of the hint at the end of the
draft; a later decision's line comes below it (what bot.draft_render.with_status keeps)."""

from __future__ import annotations

from tests.bot.conftest import BotHarness, harness  # noqa: F401
from tests.factories import make_account, make_agent, make_piece

HINT = "Approve to schedule it, Revise to tell me what to change, or Reject."
SENT = "Sent for marketing sign-off. Tap Marketing approved when they agree."


async def test_the_hint_gives_way_to_the_first_line_and_later_lines_follow(
    harness: BotHarness,  # noqa: F811
) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=7272, requires_marketing_approval=True)
        await make_account(s, agent, "facebook", display_name="Chris Sells Ocala")
        await make_piece(s, agent)
    user = h.fake.user(7272)  # the agent opened the chat with the bot
    await h.deliver()
    draft = await user.wait_message(lambda m: bool(m.buttons))
    body = draft.content.removesuffix(HINT).rstrip()
    assert draft.content.endswith(HINT) and body

    await h.fake.wait_answer(await user.tap(draft.message_id, "Approve"))
    await user.wait_for(lambda: draft.edits or None)
    assert draft.content == f"{body}\n\n⏳ {SENT}"

    await h.fake.wait_answer(await user.tap(draft.message_id, "Marketing approved"))
    await user.wait_for(lambda: len(draft.edits) >= 2 or None)
    head, sep, approved = draft.content.rpartition("\n\n")
    assert head == f"{body}\n\n⏳ {SENT}" and sep
    assert approved.startswith("✅ Approved — scheduled: Facebook (Chris Sells Ocala)")
