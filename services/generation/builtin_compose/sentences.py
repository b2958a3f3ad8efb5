"""The built-in writer's sentences: each one a template chosen stably for the listing and
variant, filled only with the listing's own facts."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TypeVar

from db.status import LIFECYCLE_PURPOSES, ContentPurpose
from services.generation.builtin_compose.listing_digest import ListingDigest
from services.generation.builtin_compose.wording_templates import (
    AMENITIES,
    AMENITIES_NO_COMMUNITY,
    AMENITY_CAP,
    CTAS,
    DESCRIPTION_CAP,
    FEATURE_CAP,
    FEATURES,
    HEADLINES,
    HIGHLIGHT,
    OPENINGS,
    PRICE,
    SOLD_CTAS,
    STATS,
    WAS_NOW,
    WAS_ONLY,
    Template,
)
from services.generation.builtin_style import Channel, Style
from services.generation.listing_facts import AgentProfile, ListingFacts, format_sqft, plural

T = TypeVar("T")


def pick(key: str, salt: str, options: Sequence[T]) -> T:
    """A stable choice among `options` for this listing/variant (`key`) and slot (`salt`)."""
    digest = hashlib.blake2b(f"{key}|{salt}".encode(), digest_size=8).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


def _allowed(listing: ListingDigest, style: Style, options: Sequence[Template]) -> list[str]:
    """Templates whose facts this listing has (a hidden price counts as missing)."""
    return [
        text
        for text, needs in options
        if needs <= listing.available and ("price" not in needs or style.show_price)
    ]


def _choose(listing: ListingDigest, style: Style, salt: str, templates: Sequence[str]) -> str:
    choices = list(templates) or ["{address}, {city}"]
    return pick(variant_key(listing, style), salt, choices).format_map(listing.values)


def variant_key(listing: ListingDigest, style: Style) -> str:
    """What `pick` varies by: the listing and the style's wording variant."""
    return f"{listing.facts.source_id}|{style.variant}"


def template_moment(listing: ListingDigest) -> str:
    """The template tables' row: the purpose, or for a new listing whether it is upcoming."""
    if listing.purpose == ContentPurpose.PRICE_IMPROVEMENT or listing.purpose in LIFECYCLE_PURPOSES:
        return str(listing.purpose)
    return "upcoming" if listing.facts.status == "upcoming" else "new_listing"


def joined(items: Sequence[str]) -> str:
    """'a, b and c'."""
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


def capitalized(text: str) -> str:
    """The text with its first letter upper-cased (the rest untouched)."""
    return text[:1].upper() + text[1:]


def stats_parts(facts: ListingFacts, *, long_form: bool = True) -> list[str]:
    """Beds, baths, square footage and garage, each as a phrase."""
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


def opening(listing: ListingDigest, style: Style) -> str:
    """The first sentence: what is new, where."""
    options = _allowed(listing, style, OPENINGS[(template_moment(listing), style.tone)])
    return _choose(listing, style, "opening", options)


def was_now(listing: ListingDigest, style: Style, first: str) -> str | None:
    """'Was $X, now $Y' for a price drop when both prices are known and shown."""
    if listing.purpose != "price_improvement" or "prev" not in listing.available:
        return None
    if not style.show_price:
        return None
    table = WAS_ONLY if listing.values["price"] in first else WAS_NOW
    return pick(variant_key(listing, style), "was_now", table[style.tone]).format_map(
        listing.values
    )


def stats_sentence(listing: ListingDigest, style: Style) -> str | None:
    """Beds, baths, square footage and garage in one sentence."""
    parts = stats_parts(listing.facts)
    if not parts:
        return None
    template = pick(variant_key(listing, style), "stats", STATS[style.tone])
    return template.format_map({**listing.values, "stats": joined(parts)})


def price_sentence(listing: ListingDigest, style: Style) -> str | None:
    """'Offered at $349,990.' (new listings; price posts say it in the opening or was/now)."""
    if listing.purpose == "price_improvement" or not style.show_price:
        return None
    if "price" not in listing.available:
        return None
    return pick(variant_key(listing, style), "price", PRICE[style.tone]).format_map(listing.values)


def highlight_sentence(item: str, tone: str) -> str:
    """A sentence leading with one thing the agent asked to mention."""
    if item[-1:] in ".!?":
        return item
    feature = with_article(item)
    return HIGHLIGHT[tone].format(feature=feature, feature_cap=capitalized(feature))


def visible_items(items: Sequence[str], style: Style, cap: int, said: str = "") -> list[str]:
    """Up to `cap` items neither highlighted, excluded nor already in `said`."""
    skip = [x.lower() for x in (*style.highlights, *style.excluded)]
    kept = [i for i in items if not any(s in i.lower() or i.lower() in s for s in skip)]
    # A feature the post already names (in a sentence borrowed from the description) is not
    # listed a second time.
    spoken = " ".join(said.lower().split())
    kept = [i for i in kept if " ".join(i.lower().split()) not in spoken]
    return kept[:cap]


def features_sentence(listing: ListingDigest, style: Style, said: str = "") -> str | None:
    """Home features (normal/long drafts) not already named in `said`."""
    items = visible_items(listing.features, style, FEATURE_CAP[style.length], said)
    if not items:
        return None
    template = pick(variant_key(listing, style), "features", FEATURES[style.tone])
    return template.format_map({**listing.values, "list": joined([with_article(i) for i in items])})


def amenities_sentence(listing: ListingDigest, style: Style, said: str = "") -> str | None:
    """Community amenities (normal/long drafts) not already named in `said`."""
    items = visible_items(listing.amenities, style, AMENITY_CAP[style.length], said)
    if not items:
        return None
    table = AMENITIES if listing.values["community"] else AMENITIES_NO_COMMUNITY
    template = pick(variant_key(listing, style), "amenities", table[style.tone])
    return template.format_map({**listing.values, "list": joined([with_article(i) for i in items])})


def age_sentence(listing: ListingDigest) -> str | None:
    """'Stone Creek is a 55+ community.' — only when the listing itself says so."""
    if listing.age_phrase is None:
        return None
    if listing.values["community"]:
        return f"{listing.values['community']} is {listing.age_phrase}."
    return f"This home is in {listing.age_phrase}."


def description_sentences(listing: ListingDigest, style: Style) -> list[str]:
    """Clean sentences borrowed from the listing's own description."""
    skip = [x.lower() for x in (*style.highlights, *style.excluded)]
    kept = [s for s in listing.sentences if not any(x in s.lower() for x in skip)]
    return kept[: DESCRIPTION_CAP[style.length]]


def headline(listing: ListingDigest, style: Style) -> str:
    """A short headline that does not start like the opening sentence."""
    start = _first_words(opening(listing, style))
    allowed = _allowed(listing, style, HEADLINES[(template_moment(listing), style.tone)])
    distinct = [t for t in allowed if _first_words(t) != start]
    return _choose(listing, style, "headline", distinct or allowed)


def _first_words(text: str) -> str:
    return " ".join(text.lower().split()[:2]).rstrip(":,!")


def call_to_action(listing: ListingDigest, style: Style) -> str:
    """The agent's call to action in the chosen tone and channel."""
    if style.cta:
        return style.cta
    channel = resolve_channel(listing.agent, style.channel)
    table = SOLD_CTAS if listing.purpose == "just_sold" else CTAS
    return pick(variant_key(listing, style), "cta", table[(channel, style.tone)]).format_map(
        listing.values
    )


def resolve_channel(agent: AgentProfile, wanted: Channel | None) -> Channel:
    """The channel asked for, falling back to email when there is no phone number."""
    if wanted in ("call", "text") and not agent.phone:
        return "email"
    if wanted is not None:
        return wanted
    return "call" if agent.phone else "email"


def all_ctas(listing: ListingDigest, style: Style) -> dict[str, Channel]:
    """Every built-in call to action for this listing and agent (to recognise a previous one)."""
    out: dict[str, Channel] = {}
    for table in (CTAS, SOLD_CTAS):
        for (channel, _tone), templates in table.items():
            for template in templates:
                out[template.format_map(listing.values)] = channel
    return out
