"""The facts check: every number in the text matches the listing; formats are tolerated."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from services.generation.checks.fact_check import check_facts
from tests.services.generation.gen_listings import AGENT, BASE, PRICE_DROP


def _warnings(text: str, **kw: object) -> list[str]:
    facts = kw.pop("facts", BASE)
    return [w.phrase or "" for w in check_facts({"body": text}, facts, agent=AGENT, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "Offered at $349,990.",
        "Only $349,990!",
        "Priced at $349K.",
        "Priced at $350K.",
        "Priced at 349,990.",
        "3 bed, 2.5 bath, 1,850 sq ft",
        "3BR/2.5BA with 1850 sqft",
        "3-bedroom, 2.5-bath home",
        "three bedrooms and two and a half baths",
        "2½ baths",
        "2 full baths and 1 half bath",
        "1,850 square feet of living space",
        "1,850-square-foot plan",
        "1,800+ sq ft",
        "a 2-car garage",
        "two-car garage",
        "Ocala, FL 34473",
        "Ocala, FL 34473-1234",
        "#Ocala34473",
        "Call (352) 555-0123 or 352-555-0123 or 3525550123.",
        "Visit 2417 SW 58th Ct.",
        "https://holidaybuilders.com/new-homes-for-sale/12345-x/?id=99999",
        "Built in 2025 with 9-ft ceilings and 10 ft doors.",
        "55+ living nearby? Not here, just numbers like 4 miles.",
    ],
)
def test_correct_numbers_in_any_common_format_pass(text: str) -> None:
    assert _warnings(text) == []


@pytest.mark.parametrize(
    ("text", "phrase", "suggestion"),
    [
        ("Offered at $359,990.", "$359,990", "$349,990"),
        ("Priced at $360K.", "$360K", "$349,990"),
        ("Just 359,990!", "359,990", "$349,990"),
        ("4 bedrooms", "4 bedrooms", "3 bedrooms"),
        ("4BR", "4BR", "3 bedrooms"),
        ("four-bedroom home", "four-bedroom", "3 bedrooms"),
        ("3 baths", "3 baths", "2.5 baths"),
        ("2 baths", "2 baths", "2.5 baths"),
        ("1,950 sq ft", "1,950 sq ft", "1,850 sq ft"),
        ("1950 sqft", "1950 sqft", "1,850 sq ft"),
        ("a 3-car garage", "3-car garage", "2-car garage"),
        ("Ocala, FL 34474", "34474", "34473"),
    ],
)
def test_wrong_numbers_are_caught_with_the_right_value_suggested(
    text: str, phrase: str, suggestion: str
) -> None:
    warnings = check_facts({"instagram_text": text}, BASE, agent=AGENT)
    assert [w.phrase for w in warnings] == [phrase]
    assert warnings[0].kind == "facts"
    assert warnings[0].suggestion == suggestion
    assert phrase in warnings[0].message


def test_previous_price_and_reduction_only_allowed_in_price_improvements() -> None:
    text = "Was $359,990, now $339,990: that's $20,000 less."
    assert _warnings(text, facts=PRICE_DROP, allow_previous_price=True) == []
    assert _warnings(text, facts=PRICE_DROP) == ["$359,990", "$20,000"]


def test_numbers_the_listing_does_not_have_are_flagged_as_unknown() -> None:
    facts = replace(BASE, beds=None, sqft=None, price=None)
    warnings = check_facts({"body": "3 bedrooms, 1,850 sq ft, $349,990"}, facts)
    assert len(warnings) == 3
    assert all("no " in w.message and "on record" in w.message for w in warnings)


def test_every_text_field_is_checked_and_duplicates_reported_once() -> None:
    content = {
        "headline": "4 Bed in Ocala",
        "body": "4 bed home",
        "facebook_text": "4 bed home",
        "bullets": ["2,000 sq ft"],
        "hashtags": ["#Ocala"],
    }
    phrases = [w.phrase for w in check_facts(content, BASE)]
    assert phrases == ["4 Bed", "2,000 sq ft"]


def test_large_prices_in_millions() -> None:
    facts = replace(BASE, price=Decimal("1250000"))
    assert _warnings("$1.25M or $1,250,000 or $1.3M", facts=facts) == []
    assert _warnings("$1.5M", facts=facts) == ["$1.5M"]
