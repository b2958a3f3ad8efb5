"""Listing facts cleaned once per draft: features, amenities and description sentences the
built-in writer may safely repeat, and the values its templates are filled with."""

from __future__ import annotations

import re
from dataclasses import dataclass

from db.status import ContentPurpose
from services.generation.checks.fact_check import check_facts
from services.generation.checks.fair_housing import find_flags, neutralize
from services.generation.listing_facts import (
    AgentProfile,
    ListingFacts,
    format_baths,
    format_price,
    format_sqft,
)

_AMENITY = re.compile(
    r"\b(?:clubhouse|club house|pool|pools|fitness|gym|gated|gate|trail|trails|park|parks|"
    r"playground|tennis|pickleball|golf|dog park|lake|lakes|pond|amenit\w*|community|"
    r"recreation|rec center|bocce|cabana|sports?|courts?|marina|boat|beach)\b",
    re.IGNORECASE,
)
_COVERED_BY_STATS = re.compile(
    r"\b(?:bed(?:room)?s?|bath(?:room)?s?|sq\.?\s*ft|sqft|square f(?:ee|oo)t|garage)\b",
    re.IGNORECASE,
)
_BUILDER_VOICE = re.compile(
    r"\b(?:we|our|us|i|my|call|contact|visit|sales|office|appointment|www|http|click|incentives?|"
    r"promo\w*|financing|rates?|closing costs?|warranty|model home|today|hours)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_AGE_WORDING = re.compile(r"\bactive[- ]adult\b", re.IGNORECASE)
_AGE_FEATURE = re.compile(
    r"\b(?:55|62)\s?(?:\+|plus\b)|\bactive[- ]adult\b|\bage[- ](?:restricted|qualified)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ListingDigest:
    """Facts pre-digested once per draft: cleaned features, usable description sentences."""

    facts: ListingFacts
    agent: AgentProfile
    purpose: ContentPurpose
    features: tuple[str, ...]
    amenities: tuple[str, ...]
    sentences: tuple[str, ...]
    values: dict[str, str]
    available: frozenset[str]
    age_phrase: str | None

    @property
    def price_drop(self) -> bool:
        """A lower price than before (or a price improvement with no old price on record)."""
        f = self.facts
        if self.purpose != "price_improvement":
            return False
        return f.previous_price is None or f.price is None or f.previous_price > f.price


def digest(facts: ListingFacts, agent: AgentProfile, purpose: ContentPurpose) -> ListingDigest:
    """Clean the facts once: features and sentences the writer may safely repeat."""
    features: list[str] = []
    amenities: list[str] = []
    for raw in facts.key_features:
        feature = _clean_feature(raw, facts)
        # The age designation gets its own sentence; it is not an amenity.
        if feature is None or (facts.age_restricted and _AGE_FEATURE.search(feature)):
            continue
        (amenities if _AMENITY.search(feature) else features).append(feature)
    sentences = _usable_sentences(facts)
    values, available = _values(facts, agent, purpose)
    age_phrase = None
    if facts.age_restricted:
        haystack = " ".join([facts.community or "", facts.description or "", *facts.key_features])
        age_phrase = (
            "an active adult community" if _AGE_WORDING.search(haystack) else "a 55+ community"
        )
    return ListingDigest(
        facts=facts,
        agent=agent,
        purpose=purpose,
        features=tuple(dict.fromkeys(features)),
        amenities=tuple(dict.fromkeys(amenities)),
        sentences=tuple(sentences),
        values=values,
        available=available,
        age_phrase=age_phrase,
    )


def _clean_feature(raw: str, facts: ListingFacts) -> str | None:
    text = neutralize(" ".join(raw.split()).strip(" .;:-•"))
    if not text or len(text) > 80:
        return None
    if _COVERED_BY_STATS.search(text):
        return None
    if find_flags(text, age_restricted=facts.age_restricted):
        return None
    if re.search(r"\d", text) and check_facts({"t": text}, facts):
        return None
    # "Open floor plan" reads as "open floor plan" mid-sentence; keep acronyms/proper nouns.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _usable_sentences(facts: ListingFacts) -> list[str]:
    if not facts.description:
        return []
    out: list[str] = []
    for raw in _SENTENCE.split(" ".join(facts.description.split())):
        sentence = neutralize(raw.strip())
        if not (40 <= len(sentence) <= 220) or sentence[-1] not in ".!":
            continue
        if re.search(r"\d", sentence) or _BUILDER_VOICE.search(sentence):
            continue
        if find_flags(sentence, age_restricted=facts.age_restricted):
            continue
        out.append(sentence)
    return out


def _values(
    facts: ListingFacts, agent: AgentProfile, purpose: ContentPurpose
) -> tuple[dict[str, str], frozenset[str]]:
    available: set[str] = set()
    plan = (facts.plan_name or "").strip()
    community = (facts.community or "").strip()
    if plan:
        available.add("plan")
    plan_ref = plan if plan.lower().startswith("the ") else f"the {plan}"
    values = {
        "address": facts.address.strip(),
        "city": facts.city.strip(),
        "state": facts.state.strip(),
        "zip": facts.zip_code.strip(),
        "community": community,
        "place": community or facts.city.strip(),
        "where": f"in {community}" if community else f"in {facts.city.strip()}",
        "where_full": (
            f"in {community}, {facts.city.strip()}"
            if community
            else f"in {facts.city.strip()}, {facts.state.strip()}"
        ),
        "plan_ref": plan_ref,
        "plan_ref_cap": plan_ref[:1].upper() + plan_ref[1:],
        "plan_ref_title": plan_ref[:1].upper() + plan_ref[1:],
        "home": plan_ref if plan else "this home",
        "home_cap": (plan_ref[:1].upper() + plan_ref[1:]) if plan else "This home",
        "name": agent.name.strip(),
        "email": agent.email.strip(),
        "phone": (agent.phone or "").strip(),
        "url": facts.source_url or "",
    }
    # A sold home's last asking price is not its sale price: a `just sold` post names none.
    if facts.price is not None and purpose != ContentPurpose.JUST_SOLD:
        values["price"] = format_price(facts.price)
        available.add("price")
    if facts.previous_price is not None and facts.price is not None:
        values["prev"] = format_price(facts.previous_price)
        values["diff"] = format_price(abs(facts.previous_price - facts.price))
        if facts.previous_price > facts.price:
            available.add("prev")
    if facts.beds is not None:
        values["beds"] = str(facts.beds)
        available.add("beds")
    if facts.baths is not None:
        values["baths"] = format_baths(facts.baths)
        available.add("baths")
    if facts.sqft is not None:
        values["sqft"] = format_sqft(facts.sqft)
        available.add("sqft")
    if facts.garage:
        available.add("garage")
    if purpose == ContentPurpose.PRICE_IMPROVEMENT and (
        facts.previous_price is None or facts.price is None or facts.previous_price > facts.price
    ):
        available.add("drop")
    return values, frozenset(available)
