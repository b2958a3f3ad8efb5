"""What is published is exactly what the agent was shown, for every content type.

The real bot (fake Bot API) shows a draft written by the built-in writer; the agent taps
through it; the publish job posts through the real Graph client to the fake Graph API.
A social post goes out with the very platform texts of the draft message; flyer text has
no button that leads to posting, and forged ones schedule and publish nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from bot.callback_data import Action
from db.models import ContentPiece, PostSchedule
from services.approval import NEVER_POSTED
from services.context import Database
from services.drafting.listing_drafts import DraftMaker
from services.publishing.graph_resources import GraphResources
from services.publishing.post_text import NoPostText, post_text
from services.publishing.publish_rounds import publish_due
from tests.bot.conftest import BotHarness, harness  # noqa: F401 (the fixture)
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.telegram_api import FakeMessage
from tests.services.drafting.conftest import agents, new_home, pieces
from tests.services.publishing.conftest import (
    connect_both,
    notes_of,
    piece_of,
    rows_of,
    seed_post,
)

TG_ID = 7301
# Every callback that could schedule or publish a draft.
POSTING_ACTIONS = (Action.APPROVE, Action.MARKETING_APPROVED, Action.POST_NOW, Action.RETRY)


async def _schedule_rows(database: Database, piece_id: object) -> int:
    async with database.unit_of_work() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(PostSchedule)
            .where(PostSchedule.content_piece_id == piece_id)
        )
    return int(count or 0)


async def _status(database: Database, piece_id: object) -> str:
    async with database.unit_of_work() as s:
        piece = await s.get(ContentPiece, piece_id)
    assert piece is not None
    return piece.status


def _shown_section(message: FakeMessage, platform: str) -> str:
    """The draft message's plain text from the platform's heading on."""
    heading = f"— {platform} —\n"
    assert heading in message.content, message.content
    return message.content.split(heading, 1)[1]


async def test_published_text_is_the_text_shown_and_flyers_are_never_published(
    harness: BotHarness,  # noqa: F811
    fake: FakeGraphApi,
    graph: GraphResources,
) -> None:
    h = harness
    (agent,) = await agents(h.database, 1, telegram_user_id=TG_ID, company="Sunrise Realty")
    async with h.database.unit_of_work() as s:
        await connect_both(h.database, s, agent)
    user = h.fake.user(TG_ID)
    listing = await new_home(
        h.database, agent, image_urls=[fake.add_jpeg("home-shown.jpg", 1080, 1080)]
    )
    maker = h.runtime.draft_maker
    assert isinstance(maker, DraftMaker)
    await maker.new_listings([listing.id])
    draft = await user.wait_message(lambda m: "New listing post" in m.content and bool(m.buttons))
    shown = draft.content  # what the agent read before deciding
    (post,) = await pieces(h.database, content_type="social_media_post")

    # Flyer text: asked for from the draft, it arrives with no button that could post it.
    await h.fake.wait_answer(await user.tap(draft.message_id, "Flyer text"))
    flyer = await user.wait_message(lambda m: "Flyer text" in m.content and bool(m.buttons))
    assert [b.split(" ", 1)[1] for b in flyer.button_labels] == ["Revise", "Dismiss"]
    assert "never posted" in flyer.content
    (flyer_piece,) = await pieces(h.database, content_type="flyer_text")
    # Forged buttons (signed with the bot's own key) that would schedule or post it.
    for action in POSTING_ACTIONS:
        forged = h.runtime.signer.encode(action, flyer_piece.id, flyer_piece.version)
        answer = await h.fake.wait_answer(await user.tap_data(flyer.message_id, forged))
        assert answer.text == NEVER_POSTED, action
    assert await _schedule_rows(h.database, flyer_piece.id) == 0
    assert await _status(h.database, flyer_piece.id) == "pending_approval_agent"

    # The social post: Approve, Post now, and the publish job.
    await h.fake.wait_answer(await user.tap(draft.message_id, "Approve"))
    await user.wait_for(lambda: any("Post now" in b for b in draft.button_labels) or None)
    await h.fake.wait_answer(await user.tap(draft.message_id, "Post now"))
    stats = await publish_due(h.database, graph.publisher)
    assert (stats.succeeded, stats.failed) == (2, 0)

    published = {p.platform: p.message for p in fake.visible_posts()}
    assert set(published) == {"facebook", "instagram"}
    for platform, label in (("facebook", "Facebook"), ("instagram", "Instagram")):
        text = published[platform]
        # The whole block under the platform's heading, exactly: nothing added or dropped.
        assert _shown_section(draft, label).startswith(text + "\n\n"), (platform, text)
        assert text == post.generated_text[f"{platform}_text"].strip()
        assert "Sunrise Realty" in text and "Equal Housing Opportunity" in text
    assert f"— Facebook —\n{published['facebook']}\n\n" in shown
    assert f"— Instagram —\n{published['instagram']}\n\n" in shown

    # Nothing of the flyer went anywhere, even after another publish round.
    await publish_due(h.database, graph.publisher)
    assert len(fake.visible_posts()) == 2
    assert await _schedule_rows(h.database, flyer_piece.id) == 0
    # Dismiss closes the flyer and takes its buttons away.
    answer = await h.fake.wait_answer(await user.tap(flyer.message_id, "Dismiss"))
    assert answer.text == "Dismissed."
    await user.wait_for(lambda: "Dismissed." in flyer.content or None)
    assert flyer.buttons == [] and "never posted" not in flyer.content
    assert await _status(h.database, flyer_piece.id) == "rejected"


def test_post_text_is_the_platform_text_or_nothing() -> None:
    text = {"headline": "New home", "body": "3 bed", "call_to_action": "Call me"}
    assert post_text({**text, "facebook_text": "  Exactly this.\n\nEHO  "}, "facebook") == (
        "Exactly this.\n\nEHO"
    )
    for platform, name in (("facebook", "Facebook"), ("instagram", "Instagram")):
        with pytest.raises(NoPostText) as refused:
            post_text({**text, f"{platform}_text": "  "}, platform)
        assert str(refused.value) == (
            f"This draft has no text written for {name}, so nothing was published there."
        )


async def test_a_flyer_approved_before_the_guard_fails_for_good_without_a_platform_call(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    """A due post whose piece has no text of its own for the platform (flyer text approved
    by an older version) becomes a permanent failure the agent is told about."""
    seeded = await seed_post(database, fake, platforms=("facebook",))
    async with database.unit_of_work() as s:
        await s.execute(
            update(ContentPiece)
            .where(ContentPiece.id == seeded.piece_id)
            .values(
                content_type="flyer_text",
                generated_text={
                    "headline": "Your new home",
                    "description": "A bright home.",
                    "call_to_action": "Call me",
                },
            )
        )
    stats = await publish_due(database, graph.publisher)
    assert (stats.claimed, stats.failed, stats.retried) == (1, 1, 0)
    assert fake.graph_calls("POST") == [] and fake.visible_posts() == []
    (row,) = await rows_of(database, seeded.piece_id)
    sentence = "This draft has no text written for Facebook, so nothing was published there."
    assert (row.status, row.error_message) == ("failed", sentence)
    assert (await piece_of(database, seeded.piece_id)).status == "posting_failed"
    assert any(sentence in n.message for n in await notes_of(database, seeded.agent_id))
    # Failed for good: later rounds do not try again.
    assert (await publish_due(database, graph.publisher)).claimed == 0
