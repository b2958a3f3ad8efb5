"""Disclosure: builder, brokerage, license and Equal Housing Opportunity in every platform text."""

from __future__ import annotations

from dataclasses import replace

from services.generation.checks.disclosure import (
    add_disclosure,
    apply_disclosure,
    disclosure_line,
    missing_disclosure,
)
from tests.services.generation.gen_listings import AGENT, AGENT_NO_COMPANY


def test_missing_disclosure_is_appended() -> None:
    fixed = add_disclosure("A lovely new home.", AGENT)
    assert fixed == (
        "A lovely new home.\n\n"
        "Home built by Holiday Builders · Sunshine Realty · Equal Housing Opportunity"
    )
    assert missing_disclosure(fixed, AGENT) == []


def test_only_the_missing_piece_is_added() -> None:
    text = "A lovely new Holiday Builders home. Presented by Jane Doe, SUNSHINE realty."
    assert add_disclosure(text, AGENT).endswith("realty.\n\nEqual Housing Opportunity")
    text = "A lovely new home by holiday  builders. equal housing opportunity"
    assert add_disclosure(text, AGENT).endswith("opportunity\n\nSunshine Realty")
    text = "A lovely new home. Sunshine Realty · Equal Housing Opportunity"
    assert add_disclosure(text, AGENT).endswith("Opportunity\n\nHome built by Holiday Builders")


def test_disclosure_goes_above_trailing_hashtags() -> None:
    caption = "🏡 New home!\n\nCall me.\n\n#NewHomes #Ocala\n#JustListed"
    fixed = add_disclosure(caption, AGENT)
    assert fixed == (
        "🏡 New home!\n\nCall me.\n\n"
        "Home built by Holiday Builders · Sunshine Realty · Equal Housing Opportunity\n\n"
        "#NewHomes #Ocala\n#JustListed"
    )


def test_present_disclosure_is_left_alone() -> None:
    text = (
        "Home.\n\nHome built by Holiday Builders · Presented by Jane Doe, Sunshine Realty · "
        "Equal Housing Opportunity"
    )
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
    assert "Home built by Holiday Builders" in fixed["agent_contact"]
    assert "Equal Housing Opportunity" in fixed["agent_contact"]


def test_agent_without_brokerage_gets_a_warning_and_the_fair_housing_line() -> None:
    fixed, warnings = apply_disclosure(
        "social_media_post", {"facebook_text": "F", "instagram_text": "I"}, AGENT_NO_COMPANY
    )
    assert fixed["facebook_text"].endswith("Equal Housing Opportunity")
    assert disclosure_line(AGENT_NO_COMPANY) == (
        "Home built by Holiday Builders · Equal Housing Opportunity"
    )
    [warning] = warnings
    assert warning.kind == "disclosure"
    assert "brokerage" in warning.message


def test_license_and_configured_builder_are_required_when_set() -> None:
    agent = replace(AGENT, license_number="#SL3412345", builder="Gulf Homes Inc")
    assert disclosure_line(agent) == (
        "Home built by Gulf Homes Inc · Sunshine Realty · License #SL3412345 · "
        "Equal Housing Opportunity"
    )
    # The default builder's name does not satisfy another configured builder.
    text = "Home built by Holiday Builders · Sunshine Realty · Equal Housing Opportunity"
    assert missing_disclosure(text, agent) == ["Home built by Gulf Homes Inc", "License #SL3412345"]
    fixed = add_disclosure(text, agent)
    assert missing_disclosure(fixed, agent) == []
    assert "Gulf Homes Inc" in fixed and "SL3412345" in fixed
