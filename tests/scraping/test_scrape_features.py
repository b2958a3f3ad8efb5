"""Key features derived from descriptions and stats."""

from __future__ import annotations

import pytest

from services.scraping.features import derive_key_features


def test_order_is_stable_and_labels_are_unique() -> None:
    plan = "Granite counters. GRANITE everywhere! Open floor plan, open floorplan."
    community = "A gated community with a clubhouse. Gated entry; clubhouse events."
    features = derive_key_features(plan, community, garage=2)
    assert features == [
        "Gated community",
        "Clubhouse",
        "Open floor plan",
        "Granite countertops",
        "2-car garage",
    ]
    assert derive_key_features(community, plan, garage=2) == features


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("A 55+ community", "55+ active adult community"),
        ("for residents 55 and older", "55+ active adult community"),
        ("an active adult lifestyle", "55+ active adult community"),
        ("age-restricted living", "55+ active adult community"),
        ("championship golf course", "Golf course"),
        ("a resort-style swimming pool", "Resort-style pool"),
        ("a community pool", "Pool"),
        ("stainless-steel appliance package", "Stainless steel appliances"),
        ("walk-in closets in every bedroom", "Walk-in closet"),
        ("a covered rear lanai", "Covered lanai"),
        ("quartz counters", "Quartz countertops"),
        ("an oversized island in the kitchen", "Kitchen island"),
        ("impact glass throughout", "Impact-resistant windows"),
    ],
)
def test_feature_is_found(text: str, label: str) -> None:
    assert label in derive_key_features(text, None)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("room for a golf cart in the garage", "Golf course"),
        ("minutes from Amelia Island and Marco Island", "Kitchen island"),
        ("near Lake City", "Waterfront"),
        ("Heron Trail is a quiet street", "Walking trails"),
        ("carpool lanes nearby", "Pool"),
    ],
)
def test_place_names_and_lookalikes_are_not_features(text: str, label: str) -> None:
    assert label not in derive_key_features(text, None)


def test_resort_style_pool_replaces_plain_pool() -> None:
    features = derive_key_features("a resort-style pool and a lap pool", None)
    assert "Resort-style pool" in features and "Pool" not in features


@pytest.mark.parametrize(
    ("garage", "expected"), [(None, []), (0, []), (1, ["1-car garage"]), (3, ["3-car garage"])]
)
def test_garage_from_the_count(garage: int | None, expected: list[str]) -> None:
    assert derive_key_features(None, None, garage=garage) == expected


def test_extra_texts_are_read() -> None:
    assert derive_key_features(None, None, extra_texts=["a dog park", None]) == ["Dog park"]
