"""Disclosure: brokerage and Equal Housing Opportunity are in every platform text."""

from __future__ import annotations

from services.generation.checks.disclosure import (
    add_disclosure,
    apply_disclosure,
    disclosure_line,
    missing_disclosure,
)
from tests.generation.gen_listings import AGENT, AGENT_NO_COMPANY


def test_missing_disclosure_is_appended() -> None:
    fixed = add_disclosure("A lovely new home.", AGENT)
    assert fixed == "A lovely new home.\n\nSunshine Realty · Equal Housing Opportunity"
    assert missing_disclosure(fixed, AGENT) == []


def test_only_the_missing_piece_is_added() -> None:
    text = "A lovely new home. Presented by Jane Doe, SUNSHINE realty."
    assert add_disclosure(text, AGENT).endswith("\n\nEqual Housing Opportunity")
    text = "A lovely new home. equal housing opportunity"
    assert add_disclosure(text, AGENT).endswith("\n\nSunshine Realty")


def test_disclosure_goes_above_trailing_hashtags() -> None:
    caption = "🏡 New home!\n\nCall me.\n\n#NewHomes #Ocala\n#JustListed"
    fixed = add_disclosure(caption, AGENT)
    assert fixed == (
        "🏡 New home!\n\nCall me.\n\nSunshine Realty · Equal Housing Opportunity\n\n"
        "#NewHomes #Ocala\n#JustListed"
    )


def test_present_disclosure_is_left_alone() -> None:
    text = "Home.\n\nPresented by Jane Doe, Sunshine Realty · Equal Housing Opportunity"
    assert add_disclosure(text, AGENT) == text


def test_apply_fixes_every_platform_text_and_nothing_else() -> None:
    content = {"headline": "H", "body": "B", "facebook_text": "F", "instagram_text": "I\n\n#A"}
    fixed, warnings = apply_disclosure("social_media_post", content, AGENT)
    assert warnings == []
    assert fixed["body"] == "B" and fixed["headline"] == "H"
    for key in ("facebook_text", "instagram_text"):
        assert missing_disclosure(fixed[key], AGENT) == []
    assert fixed["instagram_text"].endswith("#A")
    assert content["facebook_text"] == "F"  # input not mutated


def test_flyer_contact_block_gets_the_disclosure() -> None:
    fixed, _ = apply_disclosure("flyer_text", {"agent_contact": "Jane Doe"}, AGENT)
    assert "Sunshine Realty" in fixed["agent_contact"]
    assert "Equal Housing Opportunity" in fixed["agent_contact"]


def test_agent_without_brokerage_gets_a_warning_and_the_fair_housing_line() -> None:
    fixed, warnings = apply_disclosure(
        "social_media_post", {"facebook_text": "F", "instagram_text": "I"}, AGENT_NO_COMPANY
    )
    assert fixed["facebook_text"].endswith("Equal Housing Opportunity")
    assert disclosure_line(AGENT_NO_COMPANY) == "Equal Housing Opportunity"
    [warning] = warnings
    assert warning.kind == "disclosure"
    assert "brokerage" in warning.message
