"""Builder attribution and the agent's license: in every post, every flyer, and on the phone."""

from __future__ import annotations

from pathlib import Path

from services.context import Database
from services.drafting.listing_drafts import DraftMaker
from services.generation.builtin_writer import BuiltinWriter
from services.generation.checks.disclosure import missing_disclosure
from services.generation.listing_facts import AgentProfile
from tests.bot.conftest import running_bot
from tests.services.drafting.conftest import agents, new_home, pieces


async def test_posts_and_flyers_name_builder_brokerage_license_and_eho(
    database: Database,
) -> None:
    (agent,) = await agents(database, 1, license_number="SL3412345", company="Sunshine Realty")
    listing = await new_home(database, agent)
    maker = DraftMaker(database, BuiltinWriter(), builder_name="Gulf Coast Builders")
    run = await maker.new_listings([listing.id])
    assert len(run.created) == 1
    (piece,) = await pieces(database)
    profile = AgentProfile(
        name=agent.name,
        email=agent.email,
        company="Sunshine Realty",
        phone=agent.phone,
        license_number="SL3412345",
        builder="Gulf Coast Builders",
    )
    for key in ("facebook_text", "instagram_text"):
        text = piece.generated_text[key]
        assert "Home built by Gulf Coast Builders" in text
        assert "License #SL3412345" in text and "Sunshine Realty" in text
        assert "Equal Housing Opportunity" in text
        assert missing_disclosure(text, profile) == []
        assert "Holiday Builders" not in text


async def test_the_draft_message_shows_the_builder_and_license(
    database: Database, tmp_path: Path
) -> None:
    async with running_bot(database, tmp_path, builder_name="Gulf Coast Builders") as h:
        (agent,) = await agents(h.database, 1, telegram_user_id=7301, license_number="BK-77")
        user = h.fake.user(7301)
        listing = await new_home(h.database, agent)
        maker = h.runtime.draft_maker
        assert isinstance(maker, DraftMaker)
        await maker.new_listings([listing.id])
        draft = await user.wait_message(lambda m: bool(m.buttons))
        assert "Home built by Gulf Coast Builders" in draft.content
        assert "License #BK-77" in draft.content
        assert "Equal Housing Opportunity" in draft.content
