"""Turning listing facts and a Style into post and flyer text, with no network.

Every sentence comes from a template filled only with the listing's own facts, so nothing is
invented. Variety comes from choosing among templates with a hash of the listing's source id and
the variant number, so the same listing and style always give the same text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from services.generation.builtin_style import Channel, Style
from services.generation.checks.disclosure import (
    EQUAL_HOUSING_OPPORTUNITY,
    builder_credit,
    license_words,
)
from services.generation.checks.fact_check import check_facts
from services.generation.checks.fair_housing import find_flags, neutralize
from services.generation.content import normalize_hashtag, normalize_hashtags
from services.generation.listing_facts import (
    AgentProfile,
    ListingFacts,
    format_baths,
    format_price,
    format_sqft,
    plural,
)

Base = Literal[
    "new_listing", "price_improvement", "flyer", "now_selling", "just_sold", "back_on_market"
]
_LIFECYCLE: frozenset[str] = frozenset({"now_selling", "just_sold", "back_on_market"})
T = TypeVar("T")

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

_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
    "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "NewHampshire",
    "NJ": "NewJersey", "NM": "NewMexico", "NY": "NewYork", "NC": "NorthCarolina",
    "ND": "NorthDakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "RhodeIsland", "SC": "SouthCarolina", "SD": "SouthDakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "WestVirginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip

# (template, facts it needs). Templates never carry emoji; the platform layer adds those.
_Tpl = tuple[str, frozenset[str]]


def _t(text: str, *needs: str) -> _Tpl:
    return (text, frozenset(needs))


_OPENINGS: dict[tuple[str, str], list[_Tpl]] = {
    ("new_listing", "neutral"): [
        _t("Just listed {where_full}: {plan_ref} at {address}.", "plan"),
        _t("Just listed {where_full}: a brand-new home at {address}."),
        _t("Meet {plan_ref}, a new-construction home at {address} {where_full}.", "plan"),
        _t("New construction {where_full}, and it's worth a closer look: {address}."),
        _t("Looking for a new home {where}? {address} just hit the market."),
        _t("There's a new home on the market {where_full}: {address}."),
    ],
    ("new_listing", "formal"): [
        _t("Presenting {plan_ref} at {address}, a newly built home {where_full}.", "plan"),
        _t("Now available {where_full}: a newly built home at {address}."),
        _t("Introducing {address}, new construction {where_full}."),
        _t("Newly listed {where_full}: {plan_ref} at {address}.", "plan"),
    ],
    ("new_listing", "casual"): [
        _t("Brand-new and just listed {where_full}! Say hello to {address}."),
        _t(
            "Fresh on the market {where}! {plan_ref_cap} at {address} is ready for its first "
            "owners.",
            "plan",
        ),
        _t("Who's ready for a brand-new home {where}? {address} just hit the market!"),
        _t("New build alert {where_full}! Come see {address}."),
    ],
    ("upcoming", "neutral"): [
        _t("Coming soon {where_full}: {plan_ref} at {address}.", "plan"),
        _t("Coming soon {where_full}: a brand-new home at {address}."),
    ],
    ("upcoming", "formal"): [
        _t("Coming soon {where_full}: a newly built home at {address}."),
        _t("Coming soon {where_full}: {plan_ref} at {address}.", "plan"),
    ],
    ("upcoming", "casual"): [
        _t("Coming soon {where_full}! Get a first look at {address}."),
        _t("Something new is coming {where}! Meet {address}."),
    ],
    ("price_improvement", "neutral"): [
        _t("Price improvement {where_full}! {address} is now {price}.", "price", "drop"),
        _t("New price on {address} {where_full}: now {price}.", "price"),
        _t("Good news for buyers {where}: {address} has a new, lower price.", "drop"),
        _t("There's a new price on {address} {where_full}."),
    ],
    ("price_improvement", "formal"): [
        _t("Price update: {address} {where_full} is now offered at {price}.", "price"),
        _t("The price of {address} {where_full} has been updated."),
    ],
    ("price_improvement", "casual"): [
        _t("Price drop alert {where}! {address} just got more affordable.", "drop"),
        _t("New price, same beautiful home! {address} {where_full} is now {price}.", "price"),
    ],
    ("now_selling", "neutral"): [
        _t("Now selling {where_full}: {plan_ref} at {address} is officially for sale.", "plan"),
        _t("The wait is over {where}: {address} is now selling."),
        _t("It's official: {address} {where_full} is now for sale."),
        _t("Previously coming soon, {address} {where_full} is now on the market."),
    ],
    ("now_selling", "formal"): [
        _t("Now selling {where_full}: {plan_ref} at {address}.", "plan"),
        _t("{address} {where_full} is now available for purchase."),
        _t("I am pleased to announce that {address} {where_full} is now on the market."),
    ],
    ("now_selling", "casual"): [
        _t("It's here! {address} {where_full} is now selling!"),
        _t("The wait is over {where}! {address} is officially for sale."),
        _t(
            "Now selling {where}! {plan_ref_cap} at {address} is ready for its first owners.",
            "plan",
        ),
    ],
    ("just_sold", "neutral"): [
        _t("Just sold {where_full}: {address}."),
        _t("Another one sold {where}: {address} has found its owners."),
        _t("{address} {where_full} is officially sold."),
        _t("Sold! {plan_ref_cap} at {address} {where_full} is off the market.", "plan"),
    ],
    ("just_sold", "formal"): [
        _t("Just sold: {address} {where_full}."),
        _t("{address} {where_full} has sold."),
        _t("I am pleased to share that {address} {where_full} has sold."),
    ],
    ("just_sold", "casual"): [
        _t("SOLD! {address} {where_full} is spoken for."),
        _t("Another one sold {where}! {address} is off the market."),
        _t("Just sold {where}! Congratulations to the new owners of {address}."),
    ],
    ("back_on_market", "neutral"): [
        _t("Back on the market {where_full}: {address}."),
        _t("Good news {where}: {address} is available again."),
        _t("A second chance {where_full}: {address} is back on the market."),
        _t("{address} {where_full} is for sale again."),
    ],
    ("back_on_market", "formal"): [
        _t("Back on the market {where_full}: {address}."),
        _t("{address} {where_full} is once again available."),
        _t("{plan_ref_cap} at {address} {where_full} has returned to the market.", "plan"),
    ],
    ("back_on_market", "casual"): [
        _t("It's back! {address} {where_full} is on the market again."),
        _t("Missed it the first time? {address} {where} is back on the market!"),
        _t("Second chance alert {where}! {address} is available again."),
    ],
}
_WAS_NOW = {
    "neutral": ["Was {prev}, now {price}: that's {diff} less.", "Now {price}, down from {prev}."],
    "formal": ["Previously {prev}, now {price}."],
    "casual": ["Was {prev}, now just {price}. That's {diff} back in your pocket!"],
}
# When the opening already states the new price.
_WAS_ONLY = {
    "neutral": ["That's {diff} less than the previous {prev}.", "It was {prev}."],
    "formal": ["It was previously offered at {prev}."],
    "casual": ["That's {diff} less than before!"],
}
_STATS = {
    "neutral": [
        "The home offers {stats}.",
        "Inside you'll find {stats}.",
        "{home_cap} has {stats}.",
    ],
    "formal": ["The residence offers {stats}.", "The home features {stats}."],
    "casual": ["You get {stats}!", "Think {stats}!"],
}
_PRICE = {
    "neutral": ["Offered at {price}.", "Priced at {price}."],
    "formal": ["Offered at {price}."],
    "casual": ["All for {price}!", "Priced at {price}!"],
}
_HIGHLIGHT = {
    "neutral": "Standout feature: {feature}.",
    "formal": "Of particular note: {feature}.",
    "casual": "Best part? {feature_cap}!",
}
_FEATURES = {
    "neutral": [
        "Highlights include {list}.",
        "Details you'll love: {list}.",
        "It also has {list}.",
    ],
    "formal": ["Features include {list}."],
    "casual": ["Plus {list}!"],
}
_AMENITIES = {
    "neutral": ["Life in {community} comes with {list}.", "{community} residents enjoy {list}."],
    "formal": ["Community amenities include {list}."],
    "casual": ["And the community has {list}!"],
}
_AMENITIES_NO_COMMUNITY = {
    "neutral": ["Community amenities include {list}."],
    "formal": ["Community amenities include {list}."],
    "casual": ["And the community has {list}!"],
}
_LOCATION = {
    "neutral": "You'll find it at {address}, {city}, {state} {zip}.",
    "formal": "The home is located at {address}, {city}, {state} {zip}.",
    "casual": "Find it at {address}, {city}, {state} {zip}.",
}
_HEADLINES: dict[tuple[str, str], list[_Tpl]] = {
    ("new_listing", "neutral"): [
        _t("Just Listed: {plan_ref_title} in {place}", "plan"),
        _t("New Construction in {city}: {beds} Bed, {baths} Bath", "beds", "baths"),
        _t("{price} | {beds} Bed, {baths} Bath in {city}", "price", "beds", "baths"),
        _t("Now Available in {place}"),
        _t("A Brand-New Home in {place}"),
    ],
    ("new_listing", "formal"): [
        _t("Now Available: {plan_ref_title} in {place}", "plan"),
        _t("New Construction in {place}"),
        _t("{address}, {city}"),
    ],
    ("new_listing", "casual"): [
        _t("Just Listed in {place}!"),
        _t("Meet {plan_ref_title}!", "plan"),
        _t("Brand-New in {city}: {beds} Bed, {baths} Bath!", "beds", "baths"),
    ],
    ("upcoming", "neutral"): [
        _t("Coming Soon to {place}"),
        _t("Coming Soon: {plan_ref_title}", "plan"),
    ],
    ("upcoming", "formal"): [_t("Coming Soon to {place}")],
    ("upcoming", "casual"): [_t("Coming Soon to {place}!")],
    ("price_improvement", "neutral"): [
        _t("Price Improvement: Now {price}", "price", "drop"),
        _t("New Price in {city}: {price}", "price"),
        _t("New Price in {place}"),
    ],
    ("price_improvement", "formal"): [
        _t("Price Update: {address}"),
        _t("Now Offered at {price}", "price"),
    ],
    ("price_improvement", "casual"): [
        _t("Price Drop in {city}!", "drop"),
        _t("New Price: {price}!", "price"),
    ],
    ("now_selling", "neutral"): [
        _t("Now Selling in {place}"),
        _t("Now Selling: {plan_ref_title}", "plan"),
        _t("Now For Sale: {beds} Bed, {baths} Bath in {city}", "beds", "baths"),
    ],
    ("now_selling", "formal"): [_t("Now Selling in {place}"), _t("Now Available: {address}")],
    ("now_selling", "casual"): [
        _t("Now Selling in {place}!"),
        _t("It's Here: {plan_ref_title}!", "plan"),
    ],
    ("just_sold", "neutral"): [_t("Just Sold in {place}"), _t("Sold: {address}")],
    ("just_sold", "formal"): [_t("Just Sold: {address}"), _t("Sold in {place}")],
    ("just_sold", "casual"): [_t("Just Sold in {city}!"), _t("SOLD in {place}!")],
    ("back_on_market", "neutral"): [
        _t("Back on the Market in {place}"),
        _t("Available Again: {address}"),
    ],
    ("back_on_market", "formal"): [
        _t("Back on the Market: {address}"),
        _t("Available Again in {place}"),
    ],
    ("back_on_market", "casual"): [
        _t("It's Back in {city}!"),
        _t("Back on the Market in {place}!"),
    ],
}
_CTAS: dict[tuple[Channel, str], list[str]] = {
    ("call", "neutral"): [
        "Call or text {name} at {phone} to schedule a tour.",
        "Reach out to {name} at {phone} for a private showing.",
    ],
    ("call", "formal"): ["To arrange a private showing, please contact {name} at {phone}."],
    ("call", "casual"): ["Call or text {name} at {phone} and let's go see it!"],
    ("text", "neutral"): ["Text {name} at {phone} to schedule a tour."],
    ("text", "formal"): ["To arrange a showing, please text {name} at {phone}."],
    ("text", "casual"): ["Shoot {name} a text at {phone} and let's go see it!"],
    ("email", "neutral"): ["Email {name} at {email} to schedule a tour."],
    ("email", "formal"): ["To arrange a private showing, please email {name} at {email}."],
    ("email", "casual"): ["Drop {name} a line at {email} and let's go see it!"],
    ("dm", "neutral"): ["Send {name} a message to schedule a tour."],
    ("dm", "formal"): ["To arrange a private showing, please send {name} a message."],
    ("dm", "casual"): ["Slide into {name}'s DMs and let's go see it!"],
}
# A sold home cannot be toured: the `just sold` post invites the next client instead.
_SOLD_CTAS: dict[tuple[Channel, str], list[str]] = {
    ("call", "neutral"): [
        "Thinking of buying or selling {where}? Call or text {name} at {phone}.",
        "Looking for a home like this one? Call {name} at {phone}.",
    ],
    ("call", "formal"): ["To discuss buying or selling {where}, please contact {name} at {phone}."],
    ("call", "casual"): ["Want to be next? Call or text {name} at {phone}!"],
    ("text", "neutral"): ["Thinking of buying or selling {where}? Text {name} at {phone}."],
    ("text", "formal"): ["To discuss buying or selling {where}, please text {name} at {phone}."],
    ("text", "casual"): ["Want to be next? Shoot {name} a text at {phone}!"],
    ("email", "neutral"): ["Thinking of buying or selling {where}? Email {name} at {email}."],
    ("email", "formal"): ["To discuss buying or selling {where}, please email {name} at {email}."],
    ("email", "casual"): ["Want to be next? Drop {name} a line at {email}!"],
    ("dm", "neutral"): ["Thinking of buying or selling {where}? Send {name} a message."],
    ("dm", "formal"): ["To discuss buying or selling {where}, please send {name} a message."],
    ("dm", "casual"): ["Want to be next? Slide into {name}'s DMs!"],
}
_IG_LINK = {
    "neutral": "Photos and details at the link in bio.",
    "formal": "Full details are available through the link in my bio.",
    "casual": "Tap the link in bio for all the photos!",
}
_IG_NO_LINK = {
    "neutral": "DM me for photos and details.",
    "formal": "Please send me a message for full details.",
    "casual": "DM me for all the photos!",
}
_FB_LINK = {
    "neutral": "See all the photos and details: {url}",
    "formal": "Photos and full details: {url}",
    "casual": "All the photos are here: {url}",
}
_GENERIC_TAGS = (
    "#NewConstruction", "#NewHomes", "#HomeForSale", "#RealEstate", "#HouseHunting",
    "#DreamHome", "#NewBuild", "#HomesForSale", "#NewHome", "#HomeSweetHome",
    "#RealEstateAgent", "#Realtor",
)  # fmt: skip
_FEATURE_TAGS = (
    (re.compile(r"\bgolf\b", re.I), "#GolfCommunity"),
    (re.compile(r"\bgated\b", re.I), "#GatedCommunity"),
    (re.compile(r"\blake|waterfront\b", re.I), "#LakeLife"),
    (re.compile(r"\bopen (?:floor|concept)", re.I), "#OpenConcept"),
)
_TAG_COUNT = {"short": 6, "normal": 10, "long": 14}
_FB_TAG_COUNT = 3
_FEATURE_CAP = {"short": 0, "normal": 3, "long": 6}
_AMENITY_CAP = {"short": 0, "normal": 3, "long": 5}
_DESCRIPTION_CAP = {"short": 0, "normal": 1, "long": 3}
_EMOJI = {
    "home": "🏡",
    "beds": "🛏",
    "baths": "🛁",
    "sqft": "📐",
    "garage": "🚗",
    "price": "💰",
    "where": "📍",
    "cta": "📲",
    "spark": "✨",
    "check": "✅",
    "key": "🔑",
}


def pick(key: str, salt: str, options: Sequence[T]) -> T:
    """A stable choice among `options` for this listing/variant (`key`) and slot (`salt`)."""
    digest = hashlib.blake2b(f"{key}|{salt}".encode(), digest_size=8).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


@dataclass(frozen=True, slots=True)
class Listing:
    """Facts pre-digested once per draft: cleaned features, usable description sentences."""

    facts: ListingFacts
    agent: AgentProfile
    base: Base
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
        if self.base != "price_improvement":
            return False
        return f.previous_price is None or f.price is None or f.previous_price > f.price


def digest(facts: ListingFacts, agent: AgentProfile, base: Base) -> Listing:
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
    values, available = _values(facts, agent, base)
    age_phrase = None
    if facts.age_restricted:
        haystack = " ".join([facts.community or "", facts.description or "", *facts.key_features])
        age_phrase = (
            "an active adult community" if _AGE_WORDING.search(haystack) else "a 55+ community"
        )
    return Listing(
        facts=facts,
        agent=agent,
        base=base,
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
    facts: ListingFacts, agent: AgentProfile, base: Base
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
    if facts.price is not None and base != "just_sold":
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
    if base == "price_improvement" and (
        facts.previous_price is None or facts.price is None or facts.previous_price > facts.price
    ):
        available.add("drop")
    return values, frozenset(available)


def _allowed(listing: Listing, style: Style, options: Sequence[_Tpl]) -> list[str]:
    """Templates whose facts this listing has (a hidden price counts as missing)."""
    return [
        text
        for text, needs in options
        if needs <= listing.available and ("price" not in needs or style.show_price)
    ]


def _choose(listing: Listing, style: Style, salt: str, templates: Sequence[str]) -> str:
    choices = list(templates) or ["{address}, {city}"]
    return pick(_key(listing, style), salt, choices).format_map(listing.values)


def _key(listing: Listing, style: Style) -> str:
    return f"{listing.facts.source_id}|{style.variant}"


def _moment(listing: Listing) -> str:
    if listing.base == "price_improvement" or listing.base in _LIFECYCLE:
        return listing.base
    return "upcoming" if listing.facts.status == "upcoming" else "new_listing"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_MASS_NOUNS = frozenset((
    "access", "storage", "flooring", "lighting", "landscaping", "shelving", "technology",
    "efficiency", "space", "living", "design", "style", "construction", "seating", "parking",
    "privacy", "tile", "carpet", "hardwood", "granite", "quartz", "trim", "cabinetry",
    "irrigation", "insulation", "security", "maintenance",
))  # fmt: skip
_DETERMINERS = re.compile(
    r"^(?:a|an|the|two|three|four|five|six|dual|double|multiple|plenty|lots|"
    r"many|several|some|\d)\b",
    re.IGNORECASE,
)


def with_article(phrase: str) -> str:
    """'covered lanai' → 'a covered lanai'; plurals and mass nouns stay bare."""
    if _DETERMINERS.match(phrase) or not phrase[:1].isalpha():
        return phrase
    head_part = re.split(r"\s+(?:with|in|on|and|for|of|off|to|overlooking)\s+", phrase)[0]
    head = head_part.split()[-1].lower().strip(",.") if head_part.split() else ""
    if head in _MASS_NOUNS or (head.endswith("s") and not head.endswith(("ss", "us"))):
        return phrase
    article = "an" if phrase[0].lower() in "aeiou" else "a"
    return f"{article} {phrase}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _stats_parts(facts: ListingFacts, *, long_form: bool = True) -> list[str]:
    parts: list[str] = []
    if facts.beds is not None:
        parts.append(plural(facts.beds, "bedroom"))
    if facts.baths is not None:
        parts.append(plural(facts.baths, "bath"))
    if facts.sqft is not None:
        parts.append(f"{format_sqft(facts.sqft)} sq ft" + (" of living space" if long_form else ""))
    if facts.garage:
        parts.append(f"a {facts.garage}-car garage")
    return parts


# --- sentences ---------------------------------------------------------------------------


def opening(listing: Listing, style: Style) -> str:
    """The first sentence: what is new, where."""
    options = _allowed(listing, style, _OPENINGS[(_moment(listing), style.tone)])
    return _choose(listing, style, "opening", options)


def was_now(listing: Listing, style: Style, first: str) -> str | None:
    """'Was $X, now $Y' for a price drop when both prices are known and shown."""
    if listing.base != "price_improvement" or "prev" not in listing.available:
        return None
    if not style.show_price:
        return None
    table = _WAS_ONLY if listing.values["price"] in first else _WAS_NOW
    return pick(_key(listing, style), "was_now", table[style.tone]).format_map(listing.values)


def stats_sentence(listing: Listing, style: Style) -> str | None:
    """Beds, baths, square footage and garage in one sentence."""
    parts = _stats_parts(listing.facts)
    if not parts:
        return None
    template = pick(_key(listing, style), "stats", _STATS[style.tone])
    return template.format_map({**listing.values, "stats": _join(parts)})


def price_sentence(listing: Listing, style: Style) -> str | None:
    """'Offered at $349,990.' (new listings; price posts say it in the opening or was/now)."""
    if listing.base == "price_improvement" or not style.show_price:
        return None
    if "price" not in listing.available:
        return None
    return pick(_key(listing, style), "price", _PRICE[style.tone]).format_map(listing.values)


def highlight_sentence(item: str, tone: str) -> str:
    """A sentence leading with one thing the agent asked to mention."""
    if item[-1:] in ".!?":
        return item
    feature = with_article(item)
    return _HIGHLIGHT[tone].format(feature=feature, feature_cap=_cap(feature))


def _visible(items: Sequence[str], style: Style, cap: int, said: str = "") -> list[str]:
    skip = [x.lower() for x in (*style.highlights, *style.excluded)]
    kept = [i for i in items if not any(s in i.lower() or i.lower() in s for s in skip)]
    # A feature the post already names (in a sentence borrowed from the description) is not
    # listed a second time.
    spoken = " ".join(said.lower().split())
    kept = [i for i in kept if " ".join(i.lower().split()) not in spoken]
    return kept[:cap]


def features_sentence(listing: Listing, style: Style, said: str = "") -> str | None:
    """Home features (normal/long drafts) not already named in `said`."""
    items = _visible(listing.features, style, _FEATURE_CAP[style.length], said)
    if not items:
        return None
    template = pick(_key(listing, style), "features", _FEATURES[style.tone])
    return template.format_map({**listing.values, "list": _join([with_article(i) for i in items])})


def amenities_sentence(listing: Listing, style: Style, said: str = "") -> str | None:
    """Community amenities (normal/long drafts) not already named in `said`."""
    items = _visible(listing.amenities, style, _AMENITY_CAP[style.length], said)
    if not items:
        return None
    table = _AMENITIES if listing.values["community"] else _AMENITIES_NO_COMMUNITY
    template = pick(_key(listing, style), "amenities", table[style.tone])
    return template.format_map({**listing.values, "list": _join([with_article(i) for i in items])})


def age_sentence(listing: Listing) -> str | None:
    """'Stone Creek is a 55+ community.' — only when the listing itself says so."""
    if listing.age_phrase is None:
        return None
    if listing.values["community"]:
        return f"{listing.values['community']} is {listing.age_phrase}."
    return f"This home is in {listing.age_phrase}."


def description_sentences(listing: Listing, style: Style) -> list[str]:
    """Clean sentences borrowed from the listing's own description."""
    skip = [x.lower() for x in (*style.highlights, *style.excluded)]
    kept = [s for s in listing.sentences if not any(x in s.lower() for x in skip)]
    return kept[: _DESCRIPTION_CAP[style.length]]


def headline(listing: Listing, style: Style) -> str:
    """A short headline that does not start like the opening sentence."""
    start = _first_words(opening(listing, style))
    allowed = _allowed(listing, style, _HEADLINES[(_moment(listing), style.tone)])
    distinct = [t for t in allowed if _first_words(t) != start]
    return _choose(listing, style, "headline", distinct or allowed)


def _first_words(text: str) -> str:
    return " ".join(text.lower().split()[:2]).rstrip(":,!")


def call_to_action(listing: Listing, style: Style) -> str:
    """The agent's call to action in the chosen tone and channel."""
    if style.cta:
        return style.cta
    channel = resolve_channel(listing.agent, style.channel)
    table = _SOLD_CTAS if listing.base == "just_sold" else _CTAS
    return pick(_key(listing, style), "cta", table[(channel, style.tone)]).format_map(
        listing.values
    )


def resolve_channel(agent: AgentProfile, wanted: Channel | None) -> Channel:
    """The channel asked for, falling back to email when there is no phone number."""
    if wanted in ("call", "text") and not agent.phone:
        return "email"
    if wanted is not None:
        return wanted
    return "call" if agent.phone else "email"


def all_ctas(listing: Listing, style: Style) -> dict[str, Channel]:
    """Every built-in call to action for this listing and agent (to recognise a previous one)."""
    out: dict[str, Channel] = {}
    for table in (_CTAS, _SOLD_CTAS):
        for (channel, _tone), templates in table.items():
            for template in templates:
                out[template.format_map(listing.values)] = channel
    return out


# --- assembled texts --------------------------------------------------------------------------


def body_paragraphs(listing: Listing, style: Style) -> list[str]:
    """The platform-neutral body, as paragraphs."""
    first = [opening(listing, style)]
    wn = was_now(listing, style, first[0])
    if wn:
        first.append(wn)
    second = [s for s in (stats_sentence(listing, style), price_sentence(listing, style)) if s]
    second += [highlight_sentence(h, style.tone) for h in style.highlights]
    age = age_sentence(listing)
    if style.length == "short":
        if age:
            second.append(age)
        return [" ".join(p) for p in (first, second) if p]
    fourth = description_sentences(listing, style)
    said = " ".join(fourth)
    third = [
        s
        for s in (
            features_sentence(listing, style, said),
            amenities_sentence(listing, style, said),
        )
        if s
    ]
    if age:
        third.append(age)
    if style.length == "long":
        fourth.append(_LOCATION[style.tone].format_map(listing.values))
    layout = pick(_key(listing, style), "layout", (0, 1, 2))
    if layout == 1:  # the story before the numbers
        order = [first, fourth, second, third]
    elif layout == 2:  # numbers up front, in the opening paragraph
        order = [first + second, third, fourth]
    else:
        order = [first, second, third, fourth]
    return [" ".join(p) for p in order if p]


def hashtags(listing: Listing, style: Style) -> list[str]:
    """The hashtag set: the draft's moment, place, then a stable shuffle of general tags."""
    if style.hashtags is not None:
        return list(style.hashtags)
    return default_hashtags(listing, style, _TAG_COUNT[style.length])


def default_hashtags(listing: Listing, style: Style, count: int) -> list[str]:
    """`count` tags for this listing, always in the same order for the same listing."""
    f = listing.facts
    moment = _moment(listing)
    lead = {
        "price_improvement": ["#PriceImprovement", "#NewPrice"],
        "upcoming": ["#ComingSoon"],
        "new_listing": ["#JustListed"],
        "now_selling": ["#NowSelling", "#NewListing"],
        "just_sold": ["#JustSold", "#Sold"],
        "back_on_market": ["#BackOnTheMarket", "#AvailableAgain"],
    }[moment]
    city = normalize_hashtag(f.city) or ""
    state = _STATES.get(f.state.strip().upper(), f.state.strip())
    place = [
        city,
        f"{city}RealEstate",
        f"{city}Homes",
        normalize_hashtag(f.community or "") or "",
        f"#{state}Homes",
        f"#{state}RealEstate",
    ]
    extra = [
        tag for pattern, tag in _FEATURE_TAGS if any(pattern.search(x) for x in f.key_features)
    ]
    if listing.age_phrase:
        extra.append("#ActiveAdult" if "active" in listing.age_phrase else "#55PlusCommunity")
    key = f"{f.source_id}|tags"
    generic = sorted(_GENERIC_TAGS, key=lambda t: hashlib.blake2b(f"{key}|{t}".encode()).digest())
    ordered = normalize_hashtags([*lead, *place[:3], *extra, place[3], *generic, *place[4:]])
    return ordered[:count]


def disclosure(agent: AgentProfile) -> str:
    """'Home built by Holiday Builders · Presented by Jane Doe, Sunshine Realty (License
    #SL123) · Equal Housing Opportunity' (brokerage and license only when the agent has them)."""
    who = agent.name.strip()
    if agent.company and agent.company.strip():
        who += f", {agent.company.strip()}"
    if agent.license_number and agent.license_number.strip():
        who += f" ({license_words(agent.license_number)})"
    parts = [f"Presented by {who}", EQUAL_HOUSING_OPPORTUNITY]
    if agent.builder.strip():
        parts.insert(0, builder_credit(agent.builder))
    return " · ".join(parts)


def facebook_text(
    listing: Listing, style: Style, head: str, body: list[str], cta: str, tags: list[str]
) -> str:
    """The Facebook post: fuller text, a link to the listing, a few hashtags."""
    lead = {
        "none": "",
        "normal": f"{_EMOJI['home']} ",
        "more": f"{_EMOJI['home']}{_EMOJI['spark']} ",
    }
    blocks = [lead[style.emoji] + head, *body]
    cta_line = (f"{_EMOJI['cta']} " if style.emoji == "more" else "") + cta
    if listing.facts.source_url:
        cta_line += "\n" + _FB_LINK[style.tone].format(url=listing.facts.source_url)
    blocks += [cta_line, disclosure(listing.agent)]
    if tags:
        blocks.append(" ".join(tags[:_FB_TAG_COUNT]))
    return "\n\n".join(blocks)


def instagram_text(
    listing: Listing, style: Style, body: list[str], cta: str, tags: list[str]
) -> str:
    """The Instagram caption: short lines, emoji, no link, hashtags last."""
    f, v, e = listing.facts, listing.values, style.emoji != "none"
    hook = opening(listing, style)
    if style.emoji == "normal":
        hook = f"{_EMOJI['home']} {hook}"
    elif style.emoji == "more":
        hook = f"{_EMOJI['home']}{_EMOJI['spark']} {hook} {_EMOJI['key']}"
    lines: list[str] = []

    def line(icon: str, text: str) -> str:
        return f"{_EMOJI[icon]} {text}" if e else text

    row1 = [line("beds", plural(f.beds, "bedroom"))] if f.beds is not None else []
    if f.baths is not None:
        row1.append(line("baths", plural(f.baths, "bath")))
    row2 = [line("sqft", f"{format_sqft(f.sqft)} sq ft")] if f.sqft is not None else []
    if f.garage:
        row2.append(line("garage", f"{f.garage}-car garage"))
    lines += [" | ".join(r) for r in (row1, row2) if r]
    if style.show_price and "price" in v:
        price = v["price"]
        if "prev" in listing.available and listing.base == "price_improvement":
            price = f"Now {v['price']} (was {v['prev']})"
        lines.append(line("price", price))
    lines.append(line("where", f"{v['city']}, {v['state']} {v['zip']}"))

    middle = [highlight_sentence(h, style.tone) for h in style.highlights]
    age = age_sentence(listing)
    borrowed = description_sentences(listing, style)[:1] if style.length == "long" else []
    said = " ".join(borrowed)
    if style.length != "short":
        fs = features_sentence(listing, style, said)
        if fs:
            middle.append(fs)
    if style.length == "long":
        am = amenities_sentence(listing, style, said)
        if am:
            middle.append(am)
        middle += borrowed
    if age:
        middle.append(age)
    if style.emoji == "more":
        middle = [f"{_EMOJI['check']} {m}" for m in middle]

    link = (_IG_LINK if f.source_url else _IG_NO_LINK)[style.tone]
    ig_cta = _strip_urls(cta) if style.cta else cta
    cta_block = f"{link} {ig_cta}"
    if e:
        cta_block = f"{_EMOJI['cta']} {cta_block}"

    blocks = [hook, "\n".join(lines)]
    if middle:
        text = ("\n" if style.emoji == "more" else " ").join(middle)
        # Some captions tell the story before the numbers.
        if pick(_key(listing, style), "ig_layout", (0, 1)):
            blocks.insert(1, text)
        else:
            blocks.append(text)
    blocks += [cta_block, disclosure(listing.agent)]
    if tags:
        blocks.append(" ".join(tags))
    return "\n\n".join(blocks)


def flyer_bullets(listing: Listing, style: Style) -> list[str]:
    """Facts first, then what the agent asked to highlight, then features and amenities."""
    f = listing.facts
    bullets = _stats_parts(f, long_form=True)
    bullets = [_cap(b.removeprefix("a ")) for b in bullets]
    if listing.age_phrase:
        bullets.append(_cap(listing.age_phrase.removeprefix("an ").removeprefix("a ")))
    bullets += [_cap(h) for h in style.highlights if h[-1:] not in ".!?"]
    cap = {"short": 5, "normal": 8, "long": 8}[style.length]
    bullets += [_cap(x) for x in _visible(listing.features, style, cap)]
    bullets += [_cap(x) for x in _visible(listing.amenities, style, cap)]
    return list(dict.fromkeys(bullets))[:cap] or [f"{f.address}, {f.city}"]


def flyer_subheadline(listing: Listing, style: Style) -> str:
    """Address line with the price."""
    v = listing.values
    text = f"{v['address']}, {v['city']}, {v['state']} {v['zip']}"
    if style.show_price and "price" in v:
        text += f" · {v['price']}"
        if "prev" in listing.available and listing.base == "price_improvement":
            text += f" (was {v['prev']})"
    return text


def agent_contact(agent: AgentProfile) -> str:
    """The flyer's contact block, ending with the fair housing line."""
    lines = [agent.name.strip()]
    if agent.company and agent.company.strip():
        lines.append(agent.company.strip())
    if agent.license_number and agent.license_number.strip():
        lines.append(license_words(agent.license_number))
    if agent.phone and agent.phone.strip():
        lines.append(agent.phone.strip())
    lines.append(agent.email.strip())
    if agent.builder.strip():
        lines.append(builder_credit(agent.builder))
    lines.append(EQUAL_HOUSING_OPPORTUNITY)
    return "\n".join(lines)


def compose_social(listing: Listing, style: Style) -> dict[str, Any]:
    """A complete social media post dict (validates as SocialPost)."""
    body = body_paragraphs(listing, style)
    head = headline(listing, style)
    if style.emoji == "more":
        head = f"{head} {_EMOJI['spark']}"
    cta = call_to_action(listing, style)
    tags = hashtags(listing, style)
    return {
        "headline": head,
        "body": "\n\n".join(body),
        "hashtags": tags,
        "call_to_action": cta,
        "facebook_text": facebook_text(listing, style, head, body, cta, tags),
        "instagram_text": instagram_text(listing, style, body, cta, tags),
    }


def compose_flyer(listing: Listing, style: Style) -> dict[str, Any]:
    """A complete flyer dict (validates as FlyerText)."""
    return {
        "headline": headline(listing, style),
        "subheadline": flyer_subheadline(listing, style),
        "bullets": flyer_bullets(listing, style),
        "description": "\n\n".join(body_paragraphs(listing, style)),
        "call_to_action": call_to_action(listing, style),
        "agent_contact": agent_contact(listing.agent),
    }


def _strip_urls(text: str) -> str:
    return re.sub(r"\s*(?:https?://|www\.)\S+", "", text).strip()


def emoji_count(text: str) -> int:
    """How many of the writer's emoji a text carries."""
    return sum(text.count(e) for e in _EMOJI.values())


def spark_present(text: str) -> bool:
    """The 'more emoji' style leaves a sparkle; used to read a previous draft's style."""
    return _EMOJI["spark"] in text
