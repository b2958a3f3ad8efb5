"""Key features of a home, derived from its descriptions and stats."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Order here is the order shown to agents: community first, then the home, then the garage.
# Patterns avoid Florida place names that contain feature words ("Lake City", "Marco Island").
_FEATURES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        (
            "55+ active adult community",
            r"\b55\s*\+|\b55\s+(?:and|&)\s+(?:over|older|up)\b|\bactive[- ]adult|"
            r"\bage[- ](?:restricted|qualified|targeted)",
        ),
        ("Gated community", r"\bgated\b"),
        ("Golf course", r"\bgolf(?!\s*carts?\b)"),
        ("Clubhouse", r"\bclub\s?house"),
        ("Resort-style pool", r"\bresort[- ]style\s+(?:swimming\s+)?pool"),
        ("Pool", r"\b(?:swimming\s+)?pools?\b"),
        ("Fitness center", r"\bfitness\s+(?:center|centre|room)|\bgym\b"),
        ("Pickleball courts", r"\bpickleball"),
        ("Tennis courts", r"\btennis"),
        ("Playground", r"\bplay\s?grounds?\b|\btot\s+lot"),
        ("Dog park", r"\bdog\s+park"),
        (
            "Walking trails",
            r"\b(?:walking|nature|jogging|biking|hiking)\s+trails?|\btrail\s+system",
        ),
        ("Waterfront", r"\b(?:water|lake|pond)front\b|\bwater\s+views?\b|\blake\s+views?\b"),
        ("No CDD", r"\bno\s+cdd\b"),
        ("Open floor plan", r"\bopen(?:[- ]concept)?\s+(?:floor\s*plan|layout|concept|plan)"),
        ("Split bedroom plan", r"\bsplit(?:[- ]bedroom|\s+floor)\s*plan|\bsplit\s+bedrooms?"),
        ("Granite countertops", r"\bgranite"),
        ("Quartz countertops", r"\bquartz"),
        ("Stainless steel appliances", r"\bstainless"),
        ("Kitchen island", r"\b(?:kitchen|center|centre|large|oversized|eat-in)\s+island"),
        ("Walk-in pantry", r"\bwalk[- ]in\s+pantry"),
        ("Walk-in closet", r"\bwalk[- ]in\s+closets?"),
        ("Covered lanai", r"\bcovered\s+(?:rear\s+|back\s+)?lanai"),
        ("Covered patio", r"\bcovered\s+(?:rear\s+|back\s+)?patio"),
        ("Covered porch", r"\bcovered\s+(?:front\s+|entry\s+)?porch"),
        ("Vaulted ceilings", r"\bvaulted\s+ceilings?"),
        ("Tray ceilings", r"\btray\s+ceilings?"),
        ("Luxury vinyl plank flooring", r"\bluxury\s+vinyl|\blvp\b"),
        ("Tile flooring", r"\b(?:ceramic|porcelain)\s+tile|\btile\s+floor"),
        ("Impact-resistant windows", r"\bimpact[- ](?:resistant\s+)?(?:windows|glass)"),
        ("Energy efficient", r"\benergy[- ]efficien|\benergy\s+star|\blow[- ]e\b"),
        ("Smart home technology", r"\bsmart[- ]home"),
        ("Sprinkler system", r"\b(?:irrigation|sprinkler)\s+system"),
    )
)


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
    found = [label for label, pattern in _FEATURES if pattern.search(text)]
    if "Resort-style pool" in found and "Pool" in found:
        found.remove("Pool")
    if garage is not None and garage > 0:
        found.append(f"{garage}-car garage")
    return found
