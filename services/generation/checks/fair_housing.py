"""Fair housing: flag wording that states a preference based on a protected class.

The list follows HUD's advertising guidance (the 1995 "Achtenberg memo" and 24 CFR 100.75) and
the phrase lists REALTOR associations and MLS compliance tools publish. Two judgement calls:

* Room and feature words HUD itself calls acceptable ("family room", "walk-in closet",
  "master-planned community") are never flagged; rules are written as phrases, matched on word
  boundaries (a hyphen counts as part of a word, so "age-restricted" is not "restricted").
* Housing for older persons (HOPA: 55+/62+ communities) may say so. In a listing whose own facts
  say it is age-restricted, wording that *describes the community* ("55+ community", "active
  adult", "seniors") passes. Wording that *excludes people* ("adults only", "no children") is
  flagged everywhere: the exemption allows age qualification, not a ban on children (55+
  communities need only 80 % of homes to have one resident aged 55 or older).

To maintain the list, add a `PhraseRule` below; `tests/services/generation` has one case per
category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.generation.checks.warning import CheckWarning
from services.generation.content import distinct_texts

_REASONS = {
    "familial status": "can read as a preference based on familial status",
    "age": "can read as a preference based on age",
    "sex": "can read as a preference based on sex",
    "religion": "can read as a preference based on religion",
    "race or colour": "can read as a preference based on race or colour",
    "national origin": "can read as a preference based on national origin",
    "disability": "can read as a preference based on disability",
    "steering": "can read as steering buyers toward or away from an area",
    "buyer preference": "describes the buyer rather than the home",
    "age-restricted wording": "is only allowed for a qualified 55+ community, and this listing is "
    "not marked as one",
}

_ROOM = r"(?:bed ?rooms?|suites?|baths?|bathrooms?|closets?|retreats?|wings?|en[- ]suites?)"
_PEOPLE_NOUNS = (
    r"(?:neighbou?rhoods?|communit(?:y|ies)|areas?|famil(?:y|ies)|buyers|residents|block|"
    r"enclaves?|homes?|households?)"
)
_BUYER_TYPES = (
    r"(?:(?:young|growing|small|large|big|new)\s+famil(?:y|ies)|families|young\s+couples?|"
    r"couples?|newlyweds|singles?|single\s+(?:men|women|man|woman|people|persons?|professionals?)|"
    r"bachelors?|bachelorettes?|empty[- ]nesters|retirees|seniors|young\s+professionals?|"
    r"kids|children|a\s+(?:man|woman|guy|lady|gentleman)|men|women)"
)
_AGE_WORDING_SUGGESTION = (
    "Only a qualified 55+ community may use age wording; describe the home instead "
    "(e.g. 'single-story living', 'low-maintenance')."
)
_PEOPLE_SUGGESTION = "Remove it; describe the home and its amenities, never who lives nearby."
_BUYER_SUGGESTION = (
    "Describe the home, not the buyer (e.g. 'room to grow', 'perfect for entertaining')."
)


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """One flagged phrase pattern (a regex fragment, case-insensitive)."""

    pattern: str
    category: str
    suggestion: str
    # A drop-in neutral substitution (a `re.sub` template) when one exists.
    replacement: str | None = None
    allowed_in_age_restricted: bool = False
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    # For lower-cased text, without the leading boundary look-behind: Python's `re` scans
    # several times faster when a pattern starts with literals (the boundary is checked after).
    scan: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = re.compile(rf"(?<![\w-])(?:{self.pattern})(?![\w-])", re.IGNORECASE)
        object.__setattr__(self, "regex", compiled)
        object.__setattr__(self, "scan", re.compile(rf"(?:{self.pattern})(?![\w-])"))


RULES: tuple[PhraseRule, ...] = (
    # Familial status
    PhraseRule(
        rf"(?:perfect|ideal|great|suited|suitable|made|built|designed|meant)\s+for\s+"
        rf"(?:a\s+|the\s+|your\s+)?{_BUYER_TYPES}",
        "buyer preference",
        _BUYER_SUGGESTION,
    ),
    PhraseRule(
        r"(?:young|growing)\s+famil(?:y|ies)",
        "familial status",
        "Describe the space instead (e.g. 'four bedrooms', 'room to grow').",
    ),
    PhraseRule(
        r"(?<!single\s)(?<!single-)family[- ](?:friendly|oriented)|kid[- ]friendly|"
        r"child[- ]friendly|(?<!single\s)(?<!single-)family\s+neighbou?rhood",
        "familial status",
        "Name the amenity instead (e.g. 'community playground', 'fenced yard').",
    ),
    PhraseRule(
        r"no\s+(?:children|kids|teens|teenagers|minors|babies|infants|families)|"
        r"not\s+suitable\s+for\s+(?:children|kids|families)|child[- ]?free|childless",
        "familial status",
        "Remove it; only say '55+ community' when the community qualifies as housing for "
        "older persons.",
    ),
    PhraseRule(
        r"adults?[- ]only|adult\s+living\s+only|couples?\s+only|singles?\s+only",
        "familial status",
        "Remove it; for a qualified community say '55+ community' or 'active adult community'.",
    ),
    PhraseRule(
        r"empty[- ]nesters?|newlyweds?",
        "familial status",
        "Describe the home (e.g. 'low-maintenance living', 'easy-care yard').",
    ),
    # Age
    PhraseRule(
        r"young\s+(?:professionals?|couples?|buyers|people)",
        "age",
        _BUYER_SUGGESTION,
    ),
    PhraseRule(
        r"elderly|mature\s+(?:adults?|couples?|buyers|persons?|people|individuals)",
        "age",
        _AGE_WORDING_SUGGESTION,
    ),
    PhraseRule(
        r"seniors?|senior\s+citizens?|retirees|retired\s+(?:people|persons|couples?)",
        "age",
        _AGE_WORDING_SUGGESTION,
        allowed_in_age_restricted=True,
    ),
    PhraseRule(
        r"(?:55|62)\s?(?:\+|plus|(?:and|&)\s+(?:over|older|up|better))|over\s+(?:55|62)|"
        r"active[- ]adult|age[- ](?:restricted|qualified)|adult\s+communit(?:y|ies)|"
        r"retirement\s+communit(?:y|ies)|senior\s+(?:living|communit(?:y|ies))",
        "age-restricted wording",
        "Remove the age wording, or check whether the community really is 55+.",
        allowed_in_age_restricted=True,
    ),
    # Sex
    PhraseRule(
        rf"master(?P<sep>[- ]?)(?P<room>{_ROOM})",
        "sex",
        "Say 'primary' (e.g. 'primary bedroom', 'primary suite').",
        replacement=r"primary \g<room>",
    ),
    PhraseRule(
        r"bachelor(?:ette)?\s+pad|bachelor(?:ette)?s?",
        "sex",
        "Describe the space (e.g. 'cozy', 'low-maintenance', 'studio').",
    ),
    PhraseRule(
        r"man[- ]cave",
        "sex",
        "Say 'bonus room' or 'den'.",
        replacement="bonus room",
    ),
    PhraseRule(
        r"his[- ](?:and|&|n)[- ]hers?",
        "sex",
        "Say 'dual' (e.g. 'dual sinks', 'dual closets').",
        replacement="dual",
    ),
    PhraseRule(
        r"mother[- ]in[- ]law(?P<rest>\s+(?:suites?|apartments?|quarters|units?))",
        "sex",
        "Say 'guest suite' or 'multigenerational suite'.",
        replacement=r"guest\g<rest>",
    ),
    PhraseRule(
        r"(?:men|women|males?|females?|ladies|gentlemen)\s+only|only\s+(?:men|women)|"
        r"no\s+(?:men|women)",
        "sex",
        "Remove it; ads may not state a preference by sex.",
    ),
    # Disability
    PhraseRule(
        r"handicap(?:ped)?[- ]accessible",
        "disability",
        "Say 'accessible' and describe the feature (e.g. 'step-free entry').",
        replacement="accessible",
    ),
    PhraseRule(
        r"handicap(?:ped)?",
        "disability",
        "Say 'accessible' and describe the feature (e.g. 'step-free entry', 'grab bars').",
    ),
    PhraseRule(
        r"able[- ]bodied|physically\s+fit|mentally\s+(?:ill|handicapped|disabled)|crippled|"
        r"wheelchair[- ]bound|confined\s+to\s+a\s+wheelchair|no\s+wheelchairs|"
        r"no\s+(?:disabled|handicapped)|not\s+suitable\s+for\s+(?:the\s+)?(?:disabled|handicapped)|"
        r"must\s+be\s+able\s+to\s+(?:climb|walk)",
        "disability",
        "Remove it; describe the property (e.g. 'second-floor unit', 'step-free entry'), "
        "not who can live there.",
    ),
    # Race or colour
    PhraseRule(
        rf"(?:white|black|caucasian|hispanic|latino|latina|latinx|asian|african[- ]american|"
        rf"colou?red|minority|ethnic|integrated|segregated|racially\s+mixed|mixed[- ]race)\s+"
        rf"{_PEOPLE_NOUNS}|no\s+minorities",
        "race or colour",
        _PEOPLE_SUGGESTION,
    ),
    # National origin
    PhraseRule(
        r"english[- ]speaking(?:\s+only)?|english\s+only|must\s+speak\s+english|"
        r"no\s+(?:immigrants|foreigners)|(?:u\.?s\.?\s+|american\s+)?citizens\s+only",
        "national origin",
        "Remove it; ads may not state a preference by national origin or language.",
    ),
    PhraseRule(
        rf"(?:american|mexican|chinese|irish|italian|polish|korean|indian|cuban|haitian|"
        rf"puerto\s+rican|russian|vietnamese|filipino|arab|jamaican|dominican|nigerian)\s+"
        rf"{_PEOPLE_NOUNS}",
        "national origin",
        _PEOPLE_SUGGESTION,
    ),
    # Religion
    PhraseRule(
        rf"(?:christian|catholic|jewish|muslim|islamic|hindu|mormon|protestant|baptist|lutheran|"
        rf"methodist|buddhist|sikh|evangelical)\s+{_PEOPLE_NOUNS}",
        "religion",
        _PEOPLE_SUGGESTION,
    ),
    PhraseRule(
        r"(?:walking\s+distance\s+(?:to|of|from)|(?:a\s+)?short\s+walk\s+(?:to|from)|walk\s+to|"
        r"steps\s+(?:to|from)|close\s+to|near(?:by)?|next\s+to|across\s+from|minutes\s+from)\s+"
        r"(?:a\s+|the\s+|your\s+|several\s+)?(?:church(?:es)?|synagogues?|mosques?|temples?|"
        r"chapels?|cathedrals?)"
        r"(?!\s+(?:st|street|rd|road|ave|avenue|ln|lane|dr|drive|blvd|way|hill|creek)\b)",
        "religion",
        "Leave religious landmarks out, or list them neutrally among others "
        "(e.g. 'close to shops, parks and places of worship').",
    ),
    # Steering
    PhraseRule(
        r"exclusive",
        "steering",
        "Say what makes it special instead (e.g. 'gated', 'private', 'only a few homes left').",
    ),
    PhraseRule(
        r"(?<!age\s)restricted\s+(?:neighbou?rhood|community|area)|"
        r"safe\s+(?:neighbou?rhood|community|area|street)|crime[- ]free",
        "steering",
        "Describe specific features instead (e.g. 'gated entry', 'street lighting').",
    ),
)


@dataclass(frozen=True, slots=True)
class Flag:
    """One flagged phrase found in a text."""

    phrase: str
    start: int
    end: int
    rule: PhraseRule

    @property
    def suggestion(self) -> str:
        """The neutral wording: a direct substitution when the rule has one, else advice."""
        if self.rule.replacement is None:
            return self.rule.suggestion
        match = self.rule.regex.fullmatch(self.phrase)
        if match is None:
            return self.rule.suggestion
        return _match_case(self.phrase, match.expand(self.rule.replacement))


def find_flags(text: str, *, age_restricted: bool = False) -> list[Flag]:
    """Flagged phrases in `text`, longest match wins where rules overlap, in text order."""
    found: list[Flag] = []
    lowered = text.lower()
    fast = len(lowered) == len(text)  # lower() keeps offsets for all but a few exotic letters
    for rule in RULES:
        if age_restricted and rule.allowed_in_age_restricted:
            continue
        if not fast:
            found += [Flag(m.group(0), m.start(), m.end(), rule) for m in rule.regex.finditer(text)]
            continue
        for m in rule.scan.finditer(lowered):
            start = m.start()
            if start and (lowered[start - 1].isalnum() or lowered[start - 1] in "_-"):
                continue
            found.append(Flag(text[start : m.end()], start, m.end(), rule))
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Flag] = []
    for flag in found:
        if kept and flag.start < kept[-1].end:
            continue
        kept.append(flag)
    return kept


def neutralize(text: str) -> str:
    """Apply every drop-in substitution (e.g. 'master suite' → 'primary suite')."""
    for rule in RULES:
        if rule.replacement is None:
            continue
        replacement = rule.replacement

        def _sub(m: re.Match[str], replacement: str = replacement) -> str:
            return _match_case(m.group(0), m.expand(replacement))

        text = rule.regex.sub(_sub, text)
    return text


def check_fair_housing(content: dict[str, Any], *, age_restricted: bool) -> list[CheckWarning]:
    """One warning per distinct flagged phrase across every text of a draft."""
    warnings: list[CheckWarning] = []
    seen: set[str] = set()
    for text in distinct_texts(content):
        for flag in find_flags(text, age_restricted=age_restricted):
            key = flag.phrase.lower()
            if key in seen:
                continue
            seen.add(key)
            reason = _REASONS.get(flag.rule.category, "may break fair housing rules")
            warnings.append(
                CheckWarning(
                    kind="fair_housing",
                    message=f"“{flag.phrase}” {reason} (fair housing).",
                    phrase=flag.phrase,
                    suggestion=flag.suggestion,
                )
            )
    return warnings


def _match_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement
