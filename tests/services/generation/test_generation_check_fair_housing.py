"""Fair housing: each protected class is caught with a neutral suggestion; legitimate wording
(room names, 55+ communities describing themselves) is not."""

from __future__ import annotations

import pytest

from services.generation.checks.fair_housing import (
    RULES,
    check_fair_housing,
    find_flags,
    neutralize,
)


def _phrases(text: str, *, age_restricted: bool = False) -> list[str]:
    return [f.phrase for f in find_flags(text, age_restricted=age_restricted)]


@pytest.mark.parametrize(
    ("text", "phrase", "category"),
    [
        # familial status
        ("Perfect for young families!", "Perfect for young families", "buyer preference"),
        ("Ideal for couples, close to town", "Ideal for couples", "buyer preference"),
        ("Newlyweds will love it", "Newlyweds", "familial status"),
        ("No children please.", "No children", "familial status"),
        ("Adults only.", "Adults only", "familial status"),
        ("A family-friendly street", "family-friendly", "familial status"),
        ("Great for empty nesters", "Great for empty nesters", "buyer preference"),
        ("Room for your growing family", "growing family", "familial status"),
        # religion
        ("Walking distance to church and shops", "Walking distance to church", "religion"),
        ("Steps from the synagogue", "Steps from the synagogue", "religion"),
        ("In a Christian neighbourhood", "Christian neighbourhood", "religion"),
        # race / colour
        ("A quiet white neighborhood", "white neighborhood", "race or colour"),
        ("An integrated community", "integrated community", "race or colour"),
        # national origin
        ("English-speaking buyers only", "English-speaking", "national origin"),
        ("In an Irish neighborhood", "Irish neighborhood", "national origin"),
        # sex
        ("The ultimate bachelor pad", "bachelor pad", "sex"),
        ("A spacious master bedroom", "master bedroom", "sex"),
        ("Master-suite with views", "Master-suite", "sex"),
        ("His and hers sinks", "His and hers", "sex"),
        ("Plus a man cave", "man cave", "sex"),
        ("Ideal for singles", "Ideal for singles", "buyer preference"),
        # disability
        ("Handicapped accessible entry", "Handicapped accessible", "disability"),
        ("Handicap parking", "Handicap", "disability"),
        ("Buyers must be able-bodied", "able-bodied", "disability"),
        ("Not for wheelchair-bound buyers", "wheelchair-bound", "disability"),
        # age
        ("Great for young professionals", "Great for young professionals", "buyer preference"),
        ("Perfect for retirees", "Perfect for retirees", "buyer preference"),
        ("Seniors will love it", "Seniors", "age"),
        ("Not for the elderly", "elderly", "age"),
        ("A 55+ community", "55+", "age-restricted wording"),
        ("An active adult lifestyle", "active adult", "age-restricted wording"),
        # steering
        ("An exclusive enclave", "exclusive", "steering"),
        ("A safe neighborhood", "safe neighborhood", "steering"),
    ],
)
def test_flagged_phrases_are_caught_with_a_suggestion(
    text: str, phrase: str, category: str
) -> None:
    flags = find_flags(text)
    assert [f.phrase for f in flags] == [phrase]
    assert flags[0].rule.category == category
    assert flags[0].suggestion


@pytest.mark.parametrize(
    "text",
    [
        "A large family room opens to the kitchen.",
        "A master-planned community with trails.",
        "Walk-in closets and a walk-in shower.",
        "A single-family home on a corner lot.",
        "Located on Church Street near Temple Ave.",
        "The primary bedroom has dual sinks.",
        "Great for entertaining family and friends.",
        "Accessible step-free entry and wide doorways.",
        "A private, gated community with a clubhouse.",
        "Close to shops, parks and places of worship.",
        "Exclusively listed? no: inclusive pricing.",
        "Enjoy a game room, bonus room and a den.",
        "Equal Housing Opportunity",
    ],
)
def test_neutral_wording_is_not_flagged(text: str) -> None:
    assert _phrases(text) == []


def test_age_wording_passes_only_in_an_age_restricted_community() -> None:
    text = "Sunset Grove is a 55+ active adult community where seniors enjoy golf."
    assert _phrases(text) == ["55+", "active adult", "seniors"]
    assert _phrases(text, age_restricted=True) == []


def test_exclusion_wording_is_flagged_even_in_a_55_plus_community() -> None:
    text = "A 55+ community: adults only, no children."
    assert _phrases(text, age_restricted=True) == ["adults only", "no children"]


def test_matching_is_case_insensitive_and_on_word_boundaries() -> None:
    assert _phrases("PERFECT FOR YOUNG FAMILIES") == ["PERFECT FOR YOUNG FAMILIES"]
    assert _phrases("exclusively") == []
    assert _phrases("mastery of design") == []
    assert _phrases("age-restricted") == ["age-restricted"]  # not "restricted"


def test_suggestions_for_drop_in_replacements_keep_the_case() -> None:
    [flag] = find_flags("Master Suite upstairs")
    assert flag.suggestion == "Primary Suite"
    [flag] = find_flags("a mother-in-law suite")
    assert flag.suggestion == "guest suite"


def test_neutralize_applies_only_safe_substitutions() -> None:
    assert (
        neutralize("Master bedroom, his and hers closets, handicap accessible bath")
        == "Primary bedroom, dual closets, accessible bath"
    )
    assert neutralize("Perfect for young families") == "Perfect for young families"


def test_check_reports_each_phrase_once_across_all_fields() -> None:
    content = {
        "headline": "Perfect for young families",
        "body": "Perfect for young families. A master bedroom.",
        "instagram_text": "a Master Bedroom",
        "hashtags": ["#BachelorPad"],
    }
    warnings = check_fair_housing(content, age_restricted=False)
    assert [w.phrase for w in warnings] == ["Perfect for young families", "master bedroom"]
    assert all(w.kind == "fair_housing" and w.suggestion for w in warnings)
    assert "fair housing" in warnings[0].message


def test_every_rule_has_a_suggestion_and_compiles() -> None:
    assert len(RULES) >= 20
    for rule in RULES:
        assert rule.suggestion.endswith((".", ")", "'"))
        assert rule.regex.pattern
