"""Key features of a home, derived from its descriptions and stats."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Order here is the order shown to agents: community first, then the home, then the garage.
# Patterns avoid Florida place names that contain feature words ("Lake City", "Marco Island").
# Each pattern comes with the words its matches begin with (every alternative starts with
# one): a case-insensitive search tries every position and was most of a page's parsing
# time, so a pattern is only tried where one of its words is (see `_has`).
_FEATURES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE), words)
    for label, pattern, words in (
        (
            "55+ active adult community",
            r"\b55\s*\+|\b55\s+(?:and|&)\s+(?:over|older|up)\b|\bactive[- ]adult|"
            r"\bage[- ](?:restricted|qualified|targeted)",
            ("55", "active", "age"),
        ),
        ("Gated community", r"\bgated\b", ("gated",)),
        ("Golf course", r"\bgolf(?!\s*carts?\b)", ("golf",)),
        ("Clubhouse", r"\bclub\s?house", ("club",)),
        ("Resort-style pool", r"\bresort[- ]style\s+(?:swimming\s+)?pool", ("resort",)),
        ("Pool", r"\b(?:swimming\s+)?pools?\b", ("swimming", "pool")),
        ("Fitness center", r"\bfitness\s+(?:center|centre|room)|\bgym\b", ("fitness", "gym")),
        ("Pickleball courts", r"\bpickleball", ("pickleball",)),
        ("Tennis courts", r"\btennis", ("tennis",)),
        ("Playground", r"\bplay\s?grounds?\b|\btot\s+lot", ("play", "tot")),
        ("Dog park", r"\bdog\s+park", ("dog",)),
        (
            "Walking trails",
            r"\b(?:walking|nature|jogging|biking|hiking)\s+trails?|\btrail\s+system",
            ("walking", "nature", "jogging", "biking", "hiking", "trail"),
        ),
        (
            "Waterfront",
            r"\b(?:water|lake|pond)front\b|\bwater\s+views?\b|\blake\s+views?\b",
            ("water", "lake", "pond"),
        ),
        ("No CDD", r"\bno\s+cdd\b", ("no",)),
        (
            "Open floor plan",
            r"\bopen(?:[- ]concept)?\s+(?:floor\s*plan|layout|concept|plan)",
            ("open",),
        ),
        (
            "Split bedroom plan",
            r"\bsplit(?:[- ]bedroom|\s+floor)\s*plan|\bsplit\s+bedrooms?",
            ("split",),
        ),
        ("Granite countertops", r"\bgranite", ("granite",)),
        ("Quartz countertops", r"\bquartz", ("quartz",)),
        ("Stainless steel appliances", r"\bstainless", ("stainless",)),
        (
            "Kitchen island",
            r"\b(?:kitchen|center|centre|large|oversized|eat-in)\s+island",
            ("kitchen", "center", "centre", "large", "oversized", "eat-in"),
        ),
        ("Walk-in pantry", r"\bwalk[- ]in\s+pantry", ("walk",)),
        ("Walk-in closet", r"\bwalk[- ]in\s+closets?", ("walk",)),
        ("Covered lanai", r"\bcovered\s+(?:rear\s+|back\s+)?lanai", ("covered",)),
        ("Covered patio", r"\bcovered\s+(?:rear\s+|back\s+)?patio", ("covered",)),
        ("Covered porch", r"\bcovered\s+(?:front\s+|entry\s+)?porch", ("covered",)),
        ("Vaulted ceilings", r"\bvaulted\s+ceilings?", ("vaulted",)),
        ("Tray ceilings", r"\btray\s+ceilings?", ("tray",)),
        ("Luxury vinyl plank flooring", r"\bluxury\s+vinyl|\blvp\b", ("luxury", "lvp")),
        (
            "Tile flooring",
            r"\b(?:ceramic|porcelain)\s+tile|\btile\s+floor",
            ("ceramic", "porcelain", "tile"),
        ),
        (
            "Impact-resistant windows",
            r"\bimpact[- ](?:resistant\s+)?(?:windows|glass)",
            ("impact",),
        ),
        (
            "Energy efficient",
            r"\benergy[- ]efficien|\benergy\s+star|\blow[- ]e\b",
            ("energy", "low"),
        ),
        ("Smart home technology", r"\bsmart[- ]home", ("smart",)),
        ("Sprinkler system", r"\b(?:irrigation|sprinkler)\s+system", ("irrigation", "sprinkler")),
    )
)
# What `re.IGNORECASE` matches with an ASCII letter: the letter in either case, and four
# other characters (found by trying every code point; tests/services/scraping check it again).
_FOLD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ\u0130\u0131\u017f\u212a", "abcdefghijklmnopqrstuvwxyziisk"
)
# str.lower() does the same, ten times faster, except for these three (U+212A → k it does).
_LOWER_MISSES = ("\u0130", "\u0131", "\u017f")


def _has(pattern: re.Pattern[str], words: tuple[str, ...], text: str, folded: str) -> bool:
    """`pattern.search(text)`, tried only where one of its first words is.

    `folded` is `text` with each character that `re.IGNORECASE` matches with an ASCII
    letter made that lower-case letter, one for one, so it has the same positions.
    """
    for word in words:
        at = folded.find(word)
        while at >= 0:
            if pattern.match(text, at):
                return True
            at = folded.find(word, at + 1)
    return False


def derive_key_features(
    plan_description: str | None,
    community_description: str | None,
    *,
    garage: int | None = None,
    extra_texts: Iterable[str | None] = (),
) -> list[str]:
    """Human-readable key features in a stable order, without duplicates.

    Read from the plan and community descriptions (and any `extra_texts`), plus
    "N-car garage" from the garage count.
    """
    text = "\n".join(t for t in (plan_description, community_description, *extra_texts) if t)
    lower_misses = any(c in text for c in _LOWER_MISSES)
    folded = text.translate(_FOLD) if lower_misses else text.lower()
    found = [label for label, pattern, words in _FEATURES if _has(pattern, words, text, folded)]
    if "Resort-style pool" in found and "Pool" in found:
        found.remove("Pool")
    if garage is not None and garage > 0:
        found.append(f"{garage}-car garage")
    return found
