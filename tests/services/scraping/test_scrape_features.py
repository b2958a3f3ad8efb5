"""Key features derived from descriptions and stats."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scraping import features
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


# -- the word index must find exactly what a search with every pattern finds ---------------

_PHRASES = (
    "55+",
    "55 +",
    "55 and older",
    "55 & over",
    "active adult",
    "Active-Adult",
    "age-restricted",
    "AGE qualified",
    "village",
    "gated",
    "ungated",
    "golf",
    "golf cart",
    "golf carts",
    "GOLFING",
    "club house",
    "clubhouse",
    "resort-style swimming pool",
    "Resort Style Pool",
    "swimming pools",
    "carpool",
    "fitness centre",
    "gym",
    "gymnasium",
    "pickleball",
    "tennis",
    "play ground",
    "tot lot",
    "total",
    "dog park",
    "nature trail",
    "trail system",
    "waterfront",
    "water views",
    "lake view",
    "Lake City",
    "pondfront",
    "no CDD",
    "NO\tcdd",
    "nothing",
    "open-concept layout",
    "open floorplan",
    "split-bedroom plan",
    "split bedrooms",
    "granite",
    "quartz",
    "stainless",
    "eat-in island",
    "Marco Island",
    "walk-in pantry",
    "walk in closets",
    "covered rear lanai",
    "covered front porch",
    "covered patio",
    "vaulted ceiling",
    "tray ceilings",
    "luxury vinyl",
    "LVP",
    "porcelain tile",
    "tile floors",
    "impact glass",
    "impact-resistant windows",
    "energy star",
    "low-e",
    "below",
    "smart-home",
    "sprinkler system",
    "irrigation system",
    # Characters re.IGNORECASE matches with ASCII letters that str.lower() does not make so.
    "\u017ftainle\u017f\u017f",
    "P\u0130CKLEBALL",
    "g\u0131m",
    "\u212aitchen island",
    "caf\u00e9",
    "\u2013",
    "\u00c9nergy star",
)


def _every_pattern_searched(text: str) -> list[str]:
    """derive_key_features as it was: each pattern searched over the whole text."""
    found = [label for label, pattern, _ in features._FEATURES if pattern.search(text)]
    if "Resort-style pool" in found and "Pool" in found:
        found.remove("Pool")
    return found


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_PHRASES), st.text(alphabet="aeilnoprst \u0131\u017f-.+", max_size=8)
        ),
        max_size=12,
    ),
    st.lists(st.sampled_from((" ", "", "\n", ", ", "-", "x", "\u00a0")), min_size=12, max_size=12),
)
def test_the_word_index_finds_what_every_pattern_finds(
    phrases: list[str], separators: list[str]
) -> None:
    text = "".join(p + s for p, s in zip(phrases, separators, strict=False))
    assert derive_key_features(text, None) == _every_pattern_searched(text)


def test_the_fold_table_knows_every_character_that_matches_an_ascii_letter() -> None:
    letters = re.compile("[a-z]", re.IGNORECASE)
    found = {
        chr(code): chr(code).lower()
        for code in range(0x80, 0x110000)
        if letters.fullmatch(chr(code))
    }
    assert set(found) == {"\u0130", "\u0131", "\u017f", "\u212a"}
    for char in found:
        folded = char.translate(features._FOLD)
        assert re.fullmatch(folded, char, re.IGNORECASE) and folded.isascii()
        if char.lower() != folded:
            assert char in features._LOWER_MISSES
