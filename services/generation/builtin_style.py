"""How a built-in draft is written (tone, length, emoji, …) and how feedback changes that.

Feedback is read clause by clause with plain patterns. Whatever a clause asks that the built-in
writer cannot do is collected, so the writer can say so in one honest sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from services.generation.content import normalize_hashtag

Tone = Literal["neutral", "formal", "casual"]
Length = Literal["short", "normal", "long"]
EmojiLevel = Literal["none", "normal", "more"]
Channel = Literal["call", "text", "email", "dm"]

LENGTHS: tuple[Length, ...] = ("short", "normal", "long")
TONES: tuple[Tone, ...] = ("neutral", "formal", "casual")
EMOJI_LEVELS: tuple[EmojiLevel, ...] = ("none", "normal", "more")


@dataclass(frozen=True, slots=True)
class Style:
    """Everything that shapes a built-in draft besides the facts."""

    tone: Tone = "neutral"
    length: Length = "normal"
    emoji: EmojiLevel = "normal"
    variant: int = 0
    show_price: bool = True
    highlights: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    cta: str | None = None
    channel: Channel | None = None
    hashtags: tuple[str, ...] | None = None


@dataclass(slots=True)
class FeedbackPlan:
    """What a piece of feedback asks for, as edits the writer knows how to make."""

    tone: Tone | None = None
    length_step: int = 0
    emoji_step: int = 0
    emoji_none: bool = False
    new_variant: bool = False
    show_price: bool | None = None
    mention: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    cta: str | None = None
    channel: Channel | None = None
    hashtags_none: bool = False
    hashtags_step: int = 0
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    not_understood: list[str] = field(default_factory=list)


_CLAUSE_SPLIT = re.compile(
    r"[.;!?\n]+|,\s*(?:and\s+|but\s+|also\s+)?(?=(?:make|add|remove|drop|use|mention|no|less|more|"
    r"change|include|highlight|say|put|take|cut|shorten|keep|don'?t|do not|please|and|lose|"
    r"hide|show|ask|tell|switch|get rid)\b)|\s+(?:and|but|also|then)\s+(?=(?:make|add|remove|"
    r"drop|use|mention|no|less|more|change|include|highlight|say|put|take|cut|shorten|keep|"
    r"don'?t|do not|lose|hide|show|ask|tell|switch|get rid)\b)",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"^(?:please|pls|thanks?(?: you)?|thx|ok(?:ay)?|great|good|nice|looks? (?:good|great|fine)|"
    r"perfect|cool|hi|hey|hello|love it|i like it|but|and|also|just|the rest is fine)$",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“”‘’«»]([^\"“”‘’«»]{3,200})[\"“”‘’«»]|'([^']{3,200})'")
_TAG = re.compile(r"#\w+", re.UNICODE)

_NEGATE = r"(?:no|remove|drop|without|lose|kill|get rid of|take out|take off|delete|strip|cut)"
_FEWER = r"(?:fewer|less|too many|not so many|tone down)"
_MORE = r"(?:more|add|extra|some|include|put in|a few|use)"

_NO_EMOJI = re.compile(
    rf"\b{_NEGATE}\b.*\bemoj|\bemoj\w*\b.*\b(?:remove|off|out|gone)\b|"
    r"\bno\s+(?:icons|emoticons|smileys)\b",
    re.IGNORECASE,
)
_FEWER_EMOJI = re.compile(rf"\b{_FEWER}\b.*\bemoj", re.IGNORECASE)
_MORE_EMOJI = re.compile(rf"\b{_MORE}\b.*\bemoj|\bemoj\w*\b.*\bmore\b", re.IGNORECASE)

_NO_TAGS = re.compile(
    rf"\b{_NEGATE}\b.*\b(?:the\s+|all\s+)?hash ?tags\b(?!\s*#)"
    r"|\bhash ?tags\b.*\b(?:off|out|gone)\b",
    re.IGNORECASE,
)
_FEWER_TAGS = re.compile(rf"\b{_FEWER}\b.*\bhash ?tags\b", re.IGNORECASE)
_MORE_TAGS = re.compile(r"\b(?:more|extra|additional)\b.*\bhash ?tags\b", re.IGNORECASE)
_ADD_TAG_WORD = re.compile(
    r"\b(?:add|include|use|put)\b.*?\bhash ?tag\s+(?!#)([A-Za-z][\w ]{1,40}?)\s*$", re.IGNORECASE
)
_TAG_VERB_REMOVE = re.compile(rf"\b{_NEGATE}\b", re.IGNORECASE)

_SHORTER = re.compile(
    r"\b(?:shorter|shorten|too long|more concise|concise|brief|briefer|trim|cut it down|"
    r"less text|less wordy|too wordy|wordy|tighten|tighter|fewer words|condense|keep it short)\b",
    re.IGNORECASE,
)
_LONGER = re.compile(
    r"\b(?:longer|lengthen|too short|more detail|more details|more detailed|more info|"
    r"more information|expand|elaborate|fuller|say more|more descriptive|flesh it out)\b",
    re.IGNORECASE,
)
_FORMAL = re.compile(
    r"\b(?:formal|professional|serious|less casual|tone it down|more polished|polished|classier|"
    r"classy|elegant|sophisticated|upscale|luxur\w*|no exclamation|fewer exclamation|calmer|"
    r"less salesy|less hype)\b",
    re.IGNORECASE,
)
_CASUAL = re.compile(
    r"\b(?:casual|friendly|friendlier|fun|funnier|relaxed|conversational|warmer|warm|playful|"
    r"exciting|excited|upbeat|energetic|punchier|punchy|less formal|more personality|lively|"
    r"more enthusiastic|enthusiastic|catchier|catchy)\b",
    re.IGNORECASE,
)
_DIFFERENT = re.compile(
    r"\b(?:different|another|new|fresh|other)\s+(?:opening|intro|introduction|hook|version|take|"
    r"angle|start|headline|title|wording|approach|first line)\b|\brewrite\b|\btry again\b|"
    r"\bredo\b|\bless generic\b|\bmore creative\b|\bmore original\b|\bstart over\b",
    re.IGNORECASE,
)
_HIDE_PRICE = re.compile(
    r"\b(?:don'?t|do not|no|remove|hide|drop|without|leave out|skip|take out|lose)\b.*\bprice\b",
    re.IGNORECASE,
)
_SHOW_PRICE = re.compile(
    r"\b(?:add|include|show|mention|put|state|list)\b.*\bprice\b|\bprice\b.*\b(?:in|back)\b",
    re.IGNORECASE,
)
_CTA = re.compile(
    r"\b(?:call to action|call-to-action|cta)\b|"
    r"\b(?:ask|tell|have|get|invite|encourage)\s+(?:people|them|buyers|readers|folks|everyone|"
    r"viewers|followers)\b|"
    r"\b(?:contact|reach|call|text|email|e-mail|dm|message)\s+me\b|"
    r"\b(?:use|prefer|switch to)\b.*\b(?:email|e-mail|phone|texting|text|dms?|messages?)\b",
    re.IGNORECASE,
)
_CHANNELS: tuple[tuple[Channel, re.Pattern[str]], ...] = (
    ("email", re.compile(r"\be-?mail\b", re.IGNORECASE)),
    ("text", re.compile(r"\btext(?:ing)?\b|\bsms\b", re.IGNORECASE)),
    ("dm", re.compile(r"\bdms?\b|\bdirect message\b|\bmessage me\b|\binbox\b", re.IGNORECASE)),
    ("call", re.compile(r"\bcall\b|\bphone\b|\bring\b", re.IGNORECASE)),
)
_DROP = re.compile(
    r"\b(?:don'?t|do not|no need to|stop)\s+(?:mention|talk about|highlight|include)\s+"
    r"(?:the\s+|a\s+|an\s+|its\s+)?(?P<what>.+)|"
    r"\b(?:remove|drop|cut|lose|delete|take out|leave out|skip)\s+(?:the\s+)?(?:part|bit|line|"
    r"sentence|mention)\s+(?:about|of|on)\s+(?:the\s+|a\s+|an\s+|its\s+)?(?P<what2>.+)",
    re.IGNORECASE,
)
_MENTION = re.compile(
    r"\b(?:mention|highlight|emphasi[sz]e|include|add|talk about|feature|showcase|show off|"
    r"call out|point out|lead with|focus on|don'?t forget|say something about|bring up|note)\b"
    r"\s+(?:that\s+)?(?:it\s+has\s+)?(?:there'?s\s+)?(?:the\s+|a\s+|an\s+|its\s+|their\s+)?"
    r"(?P<what>.+)",
    re.IGNORECASE,
)


def split_clauses(feedback: str) -> list[str]:
    """Feedback cut into the separate requests it contains."""
    parts = [p.strip(" ,:-–—\t") for p in _CLAUSE_SPLIT.split(feedback) if p]
    return [p for p in parts if p and not _FILLER.match(p)]


def parse_feedback(feedback: str) -> FeedbackPlan:
    """Read free-text feedback into a plan; unknown requests go to `not_understood`."""
    plan = FeedbackPlan()
    quoted = _QUOTED.search(feedback)
    for clause in split_clauses(feedback):
        if not _apply_clause(clause, plan, quoted):
            plan.not_understood.append(clause)
    return plan


def _apply_clause(clause: str, plan: FeedbackPlan, quoted: re.Match[str] | None) -> bool:
    understood = False
    lower = clause.lower()
    if "emoji" in lower or re.search(r"\b(?:icons|emoticons|smileys)\b", lower):
        if _NO_EMOJI.search(clause):
            plan.emoji_none = True
            plan.applied.append("no emoji")
            understood = True
        elif _FEWER_EMOJI.search(clause):
            plan.emoji_step -= 1
            plan.applied.append("fewer emoji")
            understood = True
        elif _MORE_EMOJI.search(clause):
            plan.emoji_step += 1
            plan.applied.append("more emoji")
            understood = True
    if "hashtag" in lower or "hash tag" in lower or _TAG.search(clause):
        understood = _apply_hashtags(clause, plan) or understood
    if "price" in lower:
        if _HIDE_PRICE.search(clause):
            plan.show_price = False
            plan.applied.append("price left out")
            understood = True
        elif _SHOW_PRICE.search(clause):
            plan.show_price = True
            plan.applied.append("price shown")
            understood = True
    if _CTA.search(clause):
        understood = _apply_cta(clause, plan, quoted) or understood
    if _SHORTER.search(clause):
        plan.length_step -= 1
        plan.applied.append("shorter")
        understood = True
    if _LONGER.search(clause):
        plan.length_step += 1
        plan.applied.append("longer")
        understood = True
    if _FORMAL.search(clause):
        plan.tone = "formal"
        plan.applied.append("more formal tone")
        understood = True
    elif _CASUAL.search(clause):
        plan.tone = "casual"
        plan.applied.append("more casual tone")
        understood = True
    if _DIFFERENT.search(clause):
        plan.new_variant = True
        plan.applied.append("different wording")
        understood = True
    if understood:
        return True
    drop = _DROP.search(clause)
    if drop:
        what = _clean_subject(drop.group("what") or drop.group("what2") or "")
        if what:
            plan.drop.append(what)
            return True
    mention = _MENTION.search(clause)
    if mention:
        what = _clean_subject(mention.group("what"))
        if what:
            plan.mention.append(what)
            return True
    return False


def _apply_hashtags(clause: str, plan: FeedbackPlan) -> bool:
    tags = [t for t in (normalize_hashtag(x) for x in _TAG.findall(clause)) if t]
    if tags:
        if _TAG_VERB_REMOVE.search(clause):
            plan.remove_tags += tags
            plan.applied.append("removed " + ", ".join(tags))
        else:
            plan.add_tags += tags
            plan.applied.append("added " + ", ".join(tags))
        return True
    word = _ADD_TAG_WORD.search(clause)
    if word:
        tag = normalize_hashtag(word.group(1))
        if tag:
            plan.add_tags.append(tag)
            plan.applied.append(f"added {tag}")
            return True
    if _NO_TAGS.search(clause):
        plan.hashtags_none = True
        plan.applied.append("no hashtags")
        return True
    if _FEWER_TAGS.search(clause):
        plan.hashtags_step -= 1
        plan.applied.append("fewer hashtags")
        return True
    if _MORE_TAGS.search(clause) or re.search(r"\badd\b.*\bhash ?tags\b", clause, re.IGNORECASE):
        plan.hashtags_step += 1
        plan.applied.append("more hashtags")
        return True
    return False


def _apply_cta(clause: str, plan: FeedbackPlan, quoted: re.Match[str] | None) -> bool:
    if quoted and re.search(r"\b(?:call to action|cta|say|use|to)\b", clause, re.IGNORECASE):
        text = (quoted.group(1) or quoted.group(2) or "").strip()
        if text:
            plan.cta = text if text[-1] in ".!?" else text + "."
            plan.applied.append("your call to action")
            return True
    for channel, pattern in _CHANNELS:
        if pattern.search(clause):
            plan.channel = channel
            plan.applied.append(f"call to action by {channel if channel != 'dm' else 'DM'}")
            return True
    if re.search(r"\b(?:call to action|cta)\b", clause, re.IGNORECASE):
        plan.new_variant = True
        plan.applied.append("a different call to action")
        return True
    return False


def _clean_subject(raw: str) -> str:
    raw = re.sub(
        r"^(?:a |an |some |one )?(?:sentence|line|bit|note|word|words|something|more|detail|"
        r"details|info)\s+(?:about|on|regarding|re)\s+",
        "",
        raw.strip(),
        flags=re.IGNORECASE,
    )
    text = re.sub(
        r"\s+(?:more|too|as well|please|instead|in the post|in the text|"
        r"in the caption|first|up front|at the top)$",
        "",
        raw.strip(),
        flags=re.I,
    )
    text = re.sub(r"^(?:the|a|an|its|their)\s+", "", text.strip(), flags=re.IGNORECASE)
    return text.strip(" \"'“”.,!?")


def step(levels: tuple[str, ...], current: str, delta: int) -> str:
    """Move `delta` steps along an ordered scale, stopping at the ends."""
    index = max(0, min(len(levels) - 1, levels.index(current) + delta))
    return levels[index]


def evolve(style: Style, **changes: object) -> Style:
    """A copy of `style` with some fields replaced."""
    return replace(style, **changes)  # type: ignore[arg-type]
