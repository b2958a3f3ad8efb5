"""Facts: every price, bed, bath, square footage, garage and ZIP in the text matches the listing.

Numbers that are not listing facts (the agent's phone, the street number, URLs, names) are
masked first so they are never mistaken for a price or a ZIP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from services.generation.checks.warning import CheckWarning
from services.generation.content import distinct_texts
from services.generation.listing_facts import (
    AgentProfile,
    ListingFacts,
    format_price,
    format_sqft,
    plural,
)

_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_NUM = (
    r"(?P<n>\d+(?:\.\d+)?(?:\s*½|\s+1/2)?|"
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten)(?:[\s-]+and[\s-]+a[\s-]+half)?)"
)
_LEAD = r"(?<![\w.$,#])"

_SQFT = re.compile(
    r"(?<![\w.$,/#])(?P<n>\d{1,3}(?:,\d{3})+|\d{3,6})\s*(?P<plus>\+)?\s*-?\s*"
    r"(?:sq\.?\s*f(?:ee)?t|sqft|square[- ]f(?:ee|oo)t|sf)\b\.?",
    re.IGNORECASE,
)
_BEDS = re.compile(_LEAD + _NUM + r"\s*-?\s*(?:bed(?:room)?s?|br|bds?)\b", re.IGNORECASE)
_BATHS = re.compile(
    _LEAD + _NUM + r"\s*-?\s*(?P<q>full\s+|half\s+)?(?:bath(?:room)?s?|ba|bth)\b", re.IGNORECASE
)
_GARAGE = re.compile(
    _LEAD
    + _NUM
    + r"\s*-?\s*car\s+garage\b|\bgarage\s+for\s+"
    + _NUM.replace("?P<n>", "?P<n2>")
    + r"\s+cars?\b",
    re.IGNORECASE,
)
_PRICE = re.compile(
    r"\$\s?(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?P<dec>\.\d+)?\s?"
    r"(?P<unit>[km]\b|million\b|thousand\b)?",
    re.IGNORECASE,
)
_BARE_BIG = re.compile(r"(?<![\w$.,#])(?P<n>\d{1,3}(?:,\d{3})+)(?![\d,])")
_ZIP = re.compile(r"(?<![\w$.,/-])(?P<n>\d{5})(?:-\d{4})?(?![\w,]|\.\d)")

_ANY_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten)\b", re.I)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)")


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int


def check_facts(
    content: dict[str, Any],
    facts: ListingFacts,
    *,
    agent: AgentProfile | None = None,
    allow_previous_price: bool = False,
) -> list[CheckWarning]:
    """Warnings for every number in the draft that does not match the listing.

    `allow_previous_price` (price-improvement posts) also accepts the old price and the size
    of the reduction.
    """
    literals = [facts.address, facts.community, facts.plan_name]
    if agent is not None:
        literals += [agent.name, agent.company, agent.phone, agent.email]
    literals_lower = [x.strip().lower() for x in literals if x and len(x.strip()) >= 2]
    prices = [facts.price] if facts.price is not None else []
    if allow_previous_price and facts.previous_price is not None:
        prices.append(facts.previous_price)
        if facts.price is not None and facts.previous_price != facts.price:
            prices.append(abs(facts.previous_price - facts.price))

    warnings: list[CheckWarning] = []
    seen: set[str] = set()
    for text in distinct_texts(content):
        if not _ANY_NUMBER.search(text):
            continue
        for warning in _check_text(_mask(text, literals_lower), facts, prices):
            key = (warning.phrase or warning.message).lower()
            if key not in seen:
                seen.add(key)
                warnings.append(warning)
    return warnings


def _mask(text: str, literals: list[str]) -> str:
    """Blank out numbers that are not facts: names, the street address, URLs, e-mails, phones."""
    lowered = text.lower()
    if len(lowered) == len(text):  # lower() keeps offsets for all but a few exotic letters
        for literal in literals:
            at = lowered.find(literal)
            while at >= 0:
                end = at + len(literal)
                text = text[:at] + " " * len(literal) + text[end:]
                at = lowered.find(literal, end)
    else:
        for literal in literals:
            text = re.sub(re.escape(literal), _blank, text, flags=re.IGNORECASE)
    for pattern in (_URL, _EMAIL, _PHONE):
        text = pattern.sub(_blank, text)
    return text


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _check_text(text: str, facts: ListingFacts, prices: list[Decimal]) -> list[CheckWarning]:
    taken: list[_Span] = []
    out: list[CheckWarning] = []

    def claim(m: re.Match[str]) -> bool:
        span = _Span(m.start(), m.end())
        if any(span.start < t.end and t.start < span.end for t in taken):
            return False
        taken.append(span)
        return True

    for m in _SQFT.finditer(text):
        if claim(m):
            out.extend(_sqft(m, facts))
    for m in _BEDS.finditer(text):
        if claim(m):
            out.extend(_beds(m, facts))
    for m in _BATHS.finditer(text):
        if claim(m):
            out.extend(_baths(m, facts))
    for m in _GARAGE.finditer(text):
        if claim(m):
            out.extend(_garage(m, facts))
    for m in _PRICE.finditer(text):
        if claim(m):
            out.extend(_price(m, facts, prices))
    for m in _BARE_BIG.finditer(text):
        if _parse_int(m.group("n")) >= 10_000 and claim(m):
            out.extend(_price(m, facts, prices))
    for m in _ZIP.finditer(text):
        if claim(m):
            out.extend(_zip(m, facts))
    return out


def _parse_count(raw: str) -> Decimal | None:
    raw = raw.strip().lower()
    half = Decimal("0.5") if ("½" in raw or "1/2" in raw or "half" in raw) else Decimal(0)
    head = re.split(r"[\s½-]", raw.replace("1/2", ""), maxsplit=1)[0]
    if head in _WORDS:
        return Decimal(_WORDS[head]) + half
    try:
        return Decimal(head.rstrip("½")) + half
    except InvalidOperation:
        return None


def _parse_int(raw: str) -> int:
    return int(raw.replace(",", ""))


def _mismatch(phrase: str, message: str, suggestion: str | None) -> CheckWarning:
    return CheckWarning(kind="facts", message=message, phrase=phrase, suggestion=suggestion)


def _unknown(phrase: str, what: str) -> CheckWarning:
    return _mismatch(
        phrase,
        f"The text says “{phrase}”, but the listing has no {what} on record.",
        "Remove it, or check the listing.",
    )


def _beds(m: re.Match[str], facts: ListingFacts) -> list[CheckWarning]:
    phrase, value = m.group(0).strip(), _parse_count(m.group("n"))
    if value is None:
        return []
    if facts.beds is None:
        return [_unknown(phrase, "bedroom count")]
    if value == facts.beds:
        return []
    right = plural(facts.beds, "bedroom")
    return [_mismatch(phrase, f"The text says “{phrase}”, but the listing has {right}.", right)]


def _baths(m: re.Match[str], facts: ListingFacts) -> list[CheckWarning]:
    phrase, value = m.group(0).strip(), _parse_count(m.group("n"))
    if value is None:
        return []
    if facts.baths is None:
        return [_unknown(phrase, "bathroom count")]
    qualifier = (m.group("q") or "").strip().lower()
    if qualifier == "full":
        ok = value == int(facts.baths)
    elif qualifier == "half":
        ok = facts.baths != int(facts.baths) and value >= 1
    else:
        ok = value == facts.baths
    if ok:
        return []
    right = plural(facts.baths, "bath")
    return [_mismatch(phrase, f"The text says “{phrase}”, but the listing has {right}.", right)]


def _garage(m: re.Match[str], facts: ListingFacts) -> list[CheckWarning]:
    phrase = m.group(0).strip()
    value = _parse_count(m.group("n") or m.group("n2"))
    if value is None:
        return []
    if facts.garage is None:
        return [_unknown(phrase, "garage size")]
    if value == facts.garage:
        return []
    right = f"{facts.garage}-car garage"
    return [_mismatch(phrase, f"The text says “{phrase}”, but the listing has a {right}.", right)]


def _sqft(m: re.Match[str], facts: ListingFacts) -> list[CheckWarning]:
    phrase, value = m.group(0).strip(), _parse_int(m.group("n"))
    if facts.sqft is None:
        return [_unknown(phrase, "square footage")]
    if value == facts.sqft or (m.group("plus") and 0.9 * facts.sqft <= value <= facts.sqft):
        return []
    right = f"{format_sqft(facts.sqft)} sq ft"
    return [_mismatch(phrase, f"The text says “{phrase}”, but the listing has {right}.", right)]


def _price(m: re.Match[str], facts: ListingFacts, prices: list[Decimal]) -> list[CheckWarning]:
    phrase = m.group(0).strip()
    groups = m.groupdict()
    digits = _parse_int(groups["n"])
    dec = groups.get("dec") or ""
    unit = (groups.get("unit") or "").lower()
    scale = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}.get(unit, 1)
    value = (Decimal(digits) + (Decimal(dec) if dec else 0)) * scale
    decimals = len(dec) - 1 if dec else 0
    # "$349K" / "$1.25M" are rounded: accept anything within one unit of the last digit shown;
    # a full figure must match to the dollar (or the cent, when cents are shown).
    tolerance = Decimal(scale) / (Decimal(10) ** decimals) if scale > 1 else Decimal(1)
    if scale == 1 and decimals:
        tolerance = Decimal("0.01")
    if any(abs(value - p) < tolerance for p in prices):
        return []
    if facts.price is None:
        return [_unknown(phrase, "price")]
    right = format_price(facts.price)
    return [
        _mismatch(phrase, f"The text says “{phrase}”, but the listing price is {right}.", right)
    ]


def _zip(m: re.Match[str], facts: ListingFacts) -> list[CheckWarning]:
    phrase = m.group("n")
    expected = facts.zip_code.strip()[:5]
    if phrase == expected:
        return []
    return [
        _mismatch(
            phrase,
            f"The text says ZIP “{phrase}”, but the listing's ZIP is {expected}.",
            expected,
        )
    ]
