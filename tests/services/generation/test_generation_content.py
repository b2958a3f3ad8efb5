"""The generated_text models: validation, hashtag normalisation, JSON round trip, strict schema."""

from __future__ import annotations

import pytest
from openai.lib._parsing._completions import type_to_response_format_param
from pydantic import ValidationError

from services.generation.content import (
    FlyerText,
    SocialPost,
    content_from_json,
    content_to_json,
    normalize_hashtag,
    normalize_hashtags,
)
from tests.fakes.openai_server import _strict_problem

POST = {
    "headline": "Just Listed in Ocala",
    "body": "A new home.",
    "hashtags": ["#NewHomes"],
    "call_to_action": "Call Jane.",
    "facebook_text": "A new home. Sunshine Realty · Equal Housing Opportunity",
    "instagram_text": "A new home.\n\nSunshine Realty · Equal Housing Opportunity\n\n#NewHomes",
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("new homes", "#NewHomes"),
        ("#newHomes", "#NewHomes"),
        ("##ocala", "#Ocala"),
        ("Ocala real-estate!", "#OcalaRealEstate"),
        ("#55plus", "#55plus"),
        ("#", None),
        ("  ", None),
    ],
)
def test_hashtags_are_normalised_to_hash_word(raw: str, expected: str | None) -> None:
    assert normalize_hashtag(raw) == expected


def test_duplicate_hashtags_are_dropped_case_insensitively_keeping_order() -> None:
    assert normalize_hashtags(["#NewHomes", "newhomes", "#Ocala", "", "#NEWHOMES", "ocala"]) == [
        "#NewHomes",
        "#Ocala",
    ]


def test_social_post_validates_and_round_trips() -> None:
    post = content_from_json("social_media_post", {**POST, "hashtags": ["new homes", "#NewHomes"]})
    assert isinstance(post, SocialPost)
    assert post.hashtags == ["#NewHomes"]
    data = content_to_json(post)
    assert data["hashtags"] == ["#NewHomes"]
    assert content_from_json("social_media_post", data) == post


@pytest.mark.parametrize(
    "field", ["headline", "body", "call_to_action", "facebook_text", "instagram_text"]
)
def test_empty_text_fields_are_rejected(field: str) -> None:
    with pytest.raises(ValidationError):
        content_from_json("social_media_post", {**POST, field: "   "})


def test_unknown_keys_and_missing_keys_are_rejected() -> None:
    with pytest.raises(ValidationError):
        content_from_json("social_media_post", {**POST, "extra": "x"})
    missing = dict(POST)
    del missing["instagram_text"]
    with pytest.raises(ValidationError):
        content_from_json("social_media_post", missing)


def test_flyer_bullets_lose_their_markers_and_must_not_be_empty() -> None:
    flyer = FlyerText(
        headline="H",
        subheadline="S",
        bullets=["• 3 bedrooms", "- 2 baths", "1. Pool", "2 baths"],
        description="D",
        call_to_action="C",
        agent_contact="A",
    )
    assert flyer.bullets == ["3 bedrooms", "2 baths", "Pool"]
    with pytest.raises(ValidationError):
        FlyerText(
            headline="H",
            subheadline="S",
            bullets=["  ", "•"],
            description="D",
            call_to_action="C",
            agent_contact="A",
        )


@pytest.mark.parametrize("model", [SocialPost, FlyerText])
def test_models_make_a_valid_strict_json_schema(model: type) -> None:
    fmt = type_to_response_format_param(model)
    block = fmt["json_schema"]  # type: ignore[index]
    assert block["strict"] is True
    assert block["name"] == model.__name__
    assert _strict_problem(block["schema"]) is None
    assert set(block["schema"]["required"]) == set(model.model_fields)
