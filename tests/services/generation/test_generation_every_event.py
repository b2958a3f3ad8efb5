"""Every fixture home through every event with the built-in writer: no feature named twice,
the disclosure complete, the facts right, and openings that vary."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from db.status import ContentPurpose
from services.generation.builtin_writer import BuiltinWriter
from services.generation.checks.disclosure import missing_disclosure
from services.generation.checks.fact_check import check_facts
from services.generation.listing_facts import AgentProfile, ListingFacts, format_price
from services.generation.pipeline import produce
from services.generation.writer import WriteRequest
from tests.services.scraping.expected_homes import expected_homes

AGENT = AgentProfile(
    name="Jane Doe",
    email="jane@sunshinerealty.com",
    company="Sunshine Realty",
    phone="(352) 555-0123",
    license_number="SL3412345",
)
EVENTS: list[tuple[ContentPurpose, str]] = [
    (ContentPurpose.NEW_LISTING, "active"),
    (ContentPurpose.PRICE_IMPROVEMENT, "active"),
    (ContentPurpose.NOW_SELLING, "active"),
    (ContentPurpose.JUST_SOLD, "sold"),
    (ContentPurpose.BACK_ON_MARKET, "active"),
]
VARIANTS = range(6)
HOMES = [h for h in expected_homes("https://holidaybuilders.com").values() if h.get("address")]


def _facts(home: dict[str, Any], status: str, purpose: ContentPurpose) -> ListingFacts:
    price: Decimal | None = home["price"]
    previous = price + 10_000 if purpose == "price_improvement" and price is not None else None
    return ListingFacts(
        source_id=home["source_id"],
        address=home["address"],
        city=home["city"],
        state=home["state"],
        zip_code=home["zip_code"],
        price=price,
        beds=home["beds"],
        baths=home["baths"],
        sqft=home["sqft"],
        garage=home["garage"],
        plan_name=home["plan_name"],
        community=home["community"],
        key_features=tuple(home["key_features"]),
        description=home["description"],
        status=status,
        image_urls=tuple(home["image_urls"]),
        source_url=home["source_url"],
        previous_price=previous,
    )


def _times_named(phrase: str, text: str) -> int:
    words = r"\s+".join(re.escape(w) for w in phrase.lower().split())
    return len(re.findall(rf"(?<![\w-]){words}(?![\w-])", text.lower()))


def test_the_fixture_site_gives_enough_homes_and_features() -> None:
    assert len(HOMES) >= 5
    assert sum(len(h["key_features"]) for h in HOMES) >= 20


@pytest.mark.parametrize(("purpose", "status"), EVENTS)
async def test_every_home_every_event(purpose: ContentPurpose, status: str) -> None:
    writer = BuiltinWriter()
    openings: set[str] = set()
    for home in HOMES:
        facts = _facts(home, status, purpose)
        for variant in VARIANTS:
            req = WriteRequest("social_media_post", purpose, facts, AGENT, variant_seed=variant)
            outcome = await produce(writer, req)
            where = (home["source_id"], purpose, variant)
            assert [w for w in outcome.warnings if w.kind in ("facts", "disclosure")] == [], where
            allow_previous = purpose == "price_improvement"
            found = check_facts(
                outcome.content, facts, agent=AGENT, allow_previous_price=allow_previous
            )
            assert found == [], where
            for key in ("facebook_text", "instagram_text"):
                text = outcome.content[key]
                assert missing_disclosure(text, AGENT) == [], (where, key)
                assert "Home built by Holiday Builders" in text and "SL3412345" in text
                for feature in home["key_features"]:
                    assert _times_named(feature, text) <= 1, (where, key, feature, text)
                assert home["address"] in text, (where, key)
                if purpose == "just_sold":
                    assert "$" not in text, (where, key)
                elif home["price"] is not None and purpose == "price_improvement":
                    assert format_price(home["price"]) in text, (where, key)
            openings.add(outcome.content["body"].split(". ")[0])
    # Each event opens in several ways across homes and agents.
    assert len(openings) >= 3 * len(HOMES) // 2, (purpose, sorted(openings))
