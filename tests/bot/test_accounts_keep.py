"""/accounts → Disconnect → "Keep it": nothing changes, the list and its buttons come back;
another agent's Disconnect button is refused with a popup (services.social_accounts)."""

from __future__ import annotations

from sqlalchemy import select

from db.models import SocialMediaAccount
from tests.bot.conftest import BotHarness, harness  # noqa: F401
from tests.factories import make_account, make_agent


async def test_keep_it_changes_nothing_and_shows_the_list_again(
    harness: BotHarness,  # noqa: F811
) -> None:
    h = harness
    async with h.database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=7501)
        other = await make_agent(s, telegram_user_id=7502)
        await make_account(s, agent, "facebook", display_name="Chris Sells Ocala")
        await make_account(s, other, "facebook", display_name="Dana Homes")
    user = h.fake.user(7501)
    await user.send_command("/accounts")
    listing = await user.next_message()
    labels = listing.button_labels
    assert labels == ["Disconnect Facebook Chris Sells Ocala"]

    await h.fake.wait_answer(await user.tap(listing.message_id, "Disconnect"))
    await user.wait_for(lambda: "Keep it" in " ".join(listing.button_labels) or None)
    answer = await h.fake.wait_answer(await user.tap(listing.message_id, "Keep it"))
    assert answer.text == "Kept." and not answer.show_alert
    await user.wait_for(lambda: listing.button_labels == labels or None)
    async with h.database.unit_of_work() as s:
        active = (await s.execute(select(SocialMediaAccount.is_active))).scalars().all()
    assert active == [True, True]

    # Dana's account behind a button signed by the bot, tapped by Chris: refused, unchanged.
    async with h.database.unit_of_work() as s:
        danas = (
            await s.execute(
                select(SocialMediaAccount.id).where(SocialMediaAccount.agent_id == other.id)
            )
        ).scalar_one()
    forged = h.runtime.signer.encode("disconnect", danas, 0, "y")
    refused = await h.fake.wait_answer(await user.tap_data(listing.message_id, forged))
    assert refused.show_alert and "not one of yours" in (refused.text or "")
    async with h.database.unit_of_work() as s:
        active = (await s.execute(select(SocialMediaAccount.is_active))).scalars().all()
    assert active == [True, True]
