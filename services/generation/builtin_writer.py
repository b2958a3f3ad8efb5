"""The built-in writer: complete posts and flyers from the facts alone, no network, no key.

Revisions regenerate from the facts with the previous draft's style (read back from its text:
tone, length, wording variant, emoji, hashtags, call to action, highlights, what was left out)
changed only where the feedback asks, so earlier requests survive later ones.
"""

from __future__ import annotations

import re
from typing import Any

from db.status import LIFECYCLE_PURPOSES, ContentPurpose
from services.generation.builtin_compose import (
    ListingDigest,
    all_ctas,
    body_paragraphs,
    compose_flyer,
    compose_social,
    default_hashtags,
    digest,
    emoji_count,
    hashtags,
    highlight_sentence,
    opening,
    resolve_channel,
    spark_present,
)
from services.generation.builtin_style import (
    EMOJI_LEVELS,
    LENGTHS,
    TONES,
    EmojiLevel,
    FeedbackPlan,
    Style,
    evolve,
    parse_feedback,
    step,
)
from services.generation.content import ContentKind, normalize_hashtags, text_fields
from services.generation.listing_facts import format_price
from services.generation.writer import WriteRequest, WriteResult

WRITER_NAME = "builtin"

_STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "its",
        "it",
        "this",
        "that",
        "and",
        "or",
        "of",
        "with",
        "in",
        "on",
        "to",
        "for",
        "has",
        "have",
        "is",
        "are",
        "be",
        "more",
        "nice",
        "great",
        "beautiful",
        "lovely",
        "big",
        "huge",
        "new",
        "home",
        "house",
    ]
)


class BuiltinWriter:
    """The embedded default writer (used when no OpenAI API key is configured)."""

    name = WRITER_NAME

    async def write(self, req: WriteRequest) -> WriteResult:
        """Write a draft, or a revision of `req.previous` following `req.feedback`."""
        content, note = compose(req)
        return WriteResult(content=content, writer=WRITER_NAME, usage_tokens=0, note=note)


def compose(req: WriteRequest) -> tuple[dict[str, Any], str | None]:
    """The content dict and, for revisions, a note naming what could not be applied."""
    listing = digest(req.facts, req.agent, _purpose(req))
    if req.previous is None and not (req.feedback and req.feedback.strip()):
        return _render(req.kind, listing, Style(variant=req.variant_seed)), None

    style = (
        infer_style(req.kind, listing, req.previous, req.variant_seed)
        if req.previous
        else Style(variant=req.variant_seed)
    )
    feedback = (req.feedback or "").strip()
    plan = parse_feedback(feedback) if feedback else FeedbackPlan(new_variant=True)
    style, missed = apply_plan(req.kind, listing, style, plan)
    content = _render(req.kind, listing, style)
    rendered = " ".join(text_fields(content).values()).lower()
    missed += [
        f"removing “{what}” (the built-in writer can't reword that part)"
        for what in plan.drop
        if what.lower() in rendered
    ]
    return content, _note(missed, unchanged=req.previous is not None and content == req.previous)


def _render(kind: ContentKind, listing: ListingDigest, style: Style) -> dict[str, Any]:
    if kind == "flyer_text":
        return compose_flyer(listing, style)
    return compose_social(listing, style)


def _purpose(req: WriteRequest) -> ContentPurpose:
    """What the text announces; a revision that still shows the old price stays a price post."""
    if req.kind == "social_media_post" and req.moment in LIFECYCLE_PURPOSES:
        return ContentPurpose(req.moment)
    if req.purpose == ContentPurpose.PRICE_IMPROVEMENT:
        return ContentPurpose.PRICE_IMPROVEMENT
    if req.purpose == "revision" and req.previous and req.facts.previous_price is not None:
        shown = format_price(req.facts.previous_price)
        if any(shown in t for t in text_fields(req.previous).values()):
            return ContentPurpose.PRICE_IMPROVEMENT
    return ContentPurpose.FLYER if req.kind == "flyer_text" else ContentPurpose.NEW_LISTING


# --- reading the previous draft's style -------------------------------------------------


def infer_style(
    kind: ContentKind, listing: ListingDigest, previous: dict[str, Any], variant_seed: int
) -> Style:
    """The Style that produced `previous` (exactly, when the built-in writer wrote it)."""
    body = str(previous.get("description" if kind == "flyer_text" else "body", ""))
    every = " ".join(text_fields(previous).values())
    facts = listing.facts

    emoji: EmojiLevel = "normal"
    tags: tuple[str, ...] | None = None
    if kind == "social_media_post":
        caption = str(previous.get("instagram_text", ""))
        emoji = (
            "none" if emoji_count(caption) == 0 else "more" if spark_present(caption) else "normal"
        )
        raw_tags = previous.get("hashtags")
        if isinstance(raw_tags, list):
            tags = tuple(normalize_hashtags([str(t) for t in raw_tags]))
    show_price = facts.price is None or format_price(facts.price) in every

    base = Style(emoji=emoji, hashtags=tags, show_price=show_price)
    prev_cta = str(previous.get("call_to_action", "")).strip()
    ctas = all_ctas(listing, base)
    if prev_cta in ctas:
        base = evolve(base, channel=ctas[prev_cta])
    elif prev_cta:
        base = evolve(base, cta=prev_cta)

    highlights = _highlights_in(body, listing)
    base = evolve(base, highlights=highlights)
    # A description sentence the agent asked to mention sits with the numbers; try each one
    # found in the body as a highlight too.
    borrowed = [s for s in listing.sentences if s in body]
    highlight_sets = [highlights, *((*highlights, s) for s in borrowed)]
    if len(borrowed) > 1:
        highlight_sets.append((*highlights, *borrowed))
    items = (*listing.features, *listing.amenities, *listing.sentences)
    variants = dict.fromkeys([variant_seed, *range(6), *range(variant_seed, variant_seed + 6)])
    for variant in variants:
        for tone in TONES:
            if not body.startswith(opening(listing, evolve(base, variant=variant, tone=tone))):
                continue
            for length in LENGTHS:
                for chosen in highlight_sets:
                    found = _match(
                        listing,
                        evolve(base, variant=variant, tone=tone, length=length, highlights=chosen),
                        body,
                        items,
                    )
                    if found is not None:
                        return found
    return evolve(base, variant=variant_seed)


def _match(
    listing: ListingDigest, candidate: Style, body: str, items: tuple[str, ...]
) -> Style | None:
    made = "\n\n".join(body_paragraphs(listing, candidate))
    if made == body:
        return candidate
    lowered, made_lower = body.lower(), made.lower()
    excluded = tuple(x for x in items if x.lower() in made_lower and x.lower() not in lowered)
    if excluded:
        candidate = evolve(candidate, excluded=excluded)
        if "\n\n".join(body_paragraphs(listing, candidate)) == body:
            return candidate
    return None


def _highlights_in(body: str, listing: ListingDigest) -> tuple[str, ...]:
    found: list[tuple[int, str]] = []
    for item in (*listing.features, *listing.amenities, *_stat_items(listing)):
        for tone in TONES:
            at = body.find(highlight_sentence(item, tone))
            if at >= 0:
                found.append((at, item))
                break
    return tuple(item for _, item in sorted(found))


def _stat_items(listing: ListingDigest) -> list[str]:
    f = listing.facts
    return [f"a {f.garage}-car garage"] if f.garage else []


# --- applying feedback ---------------------------------------------------------------------


def apply_plan(
    kind: ContentKind, listing: ListingDigest, style: Style, plan: FeedbackPlan
) -> tuple[Style, list[str]]:
    """The style after the feedback, and plain descriptions of what could not be done."""
    missed = [f"“{c}” (not something the built-in writer understands)" for c in plan.not_understood]
    facts = listing.facts
    if plan.tone:
        style = evolve(style, tone=plan.tone)
    if plan.length_step:
        style = evolve(style, length=step(LENGTHS, style.length, plan.length_step))
    if plan.new_variant:
        style = evolve(style, variant=style.variant + 1)
    if plan.show_price is not None:
        if plan.show_price and facts.price is None:
            missed.append("showing the price (there is no price on record for this home)")
        else:
            style = evolve(style, show_price=plan.show_price)

    if kind == "flyer_text":
        if plan.emoji_none or plan.emoji_step:
            missed.append("the emoji change (flyer text has no emoji)")
        if plan.hashtags_none or plan.hashtags_step or plan.add_tags or plan.remove_tags:
            missed.append("the hashtag change (flyer text has no hashtags)")
    else:
        if plan.emoji_none:
            style = evolve(style, emoji="none")
        elif plan.emoji_step:
            style = evolve(style, emoji=step(EMOJI_LEVELS, style.emoji, plan.emoji_step))
        style = _apply_tags(listing, style, plan)

    if plan.cta:
        style = evolve(style, cta=plan.cta, channel=None)
    elif plan.channel:
        if plan.channel in ("call", "text") and not listing.agent.phone:
            missed.append(
                f"a {plan.channel} call to action (there is no phone number on your profile, "
                "so it uses your email)"
            )
        style = evolve(style, cta=None, channel=resolve_channel(listing.agent, plan.channel))

    for what in plan.drop:
        if re.search(r"\bprice\b", what, re.IGNORECASE):
            style = evolve(style, show_price=False)
            continue
        matches = _find(listing, what)
        style = evolve(
            style,
            excluded=(*style.excluded, *(matches or [what])),
            highlights=tuple(h for h in style.highlights if h not in matches),
        )
    for what in plan.mention:
        style, problem = _mention(listing, style, what)
        if problem:
            missed.append(problem)
    return style, missed


def _apply_tags(listing: ListingDigest, style: Style, plan: FeedbackPlan) -> Style:
    if not (plan.hashtags_none or plan.hashtags_step or plan.add_tags or plan.remove_tags):
        return style
    tags = [] if plan.hashtags_none else hashtags(listing, style)
    if plan.hashtags_step < 0:
        tags = tags[: max(3, len(tags) // 2)] if len(tags) > 3 else tags[:1]
    elif plan.hashtags_step > 0:
        pool = default_hashtags(listing, style, 30)
        tags += [t for t in pool if t not in tags][:5]
    removed = {t.lower() for t in plan.remove_tags}
    tags = [t for t in tags if t.lower() not in removed]
    tags = normalize_hashtags([*tags, *plan.add_tags])
    return evolve(style, hashtags=tuple(tags))


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9+]+", text.lower())
    return [w.rstrip("s") if len(w) > 3 else w for w in words if w not in _STOPWORDS]


def _find(listing: ListingDigest, what: str) -> list[str]:
    wanted = _words(what)
    if not wanted:
        return []
    out = []
    for item in (*listing.features, *listing.amenities, *listing.sentences):
        have = " ".join(_words(item))
        if all(w in have for w in wanted):
            out.append(item)
    return out


def _mention(listing: ListingDigest, style: Style, what: str) -> tuple[Style, str | None]:
    facts = listing.facts
    words = set(_words(what))
    covered = {
        "price": facts.price is not None,
        "bedroom": facts.beds is not None,
        "bed": facts.beds is not None,
        "bath": facts.baths is not None,
        "bathroom": facts.baths is not None,
        "sq": facts.sqft is not None,
        "sqft": facts.sqft is not None,
        "square": facts.sqft is not None,
        "footage": facts.sqft is not None,
        "size": facts.sqft is not None,
        "address": True,
        "location": True,
        "zip": True,
    }
    if words and words <= set(covered) and all(covered[w] for w in words):
        if "price" in words:
            style = evolve(style, show_price=True)
        return style, None
    if "garage" in words and facts.garage:
        item = f"a {facts.garage}-car garage"
        if item not in style.highlights:
            style = evolve(style, highlights=(*style.highlights, item))
        return style, None
    community = (facts.community or "").lower()
    if (
        words
        and (
            words <= {"community", "neighborhood", "neighbourhood", "amenitie", "amenity"}
            or (community and all(w in community for w in words))
        )
        and (listing.amenities or listing.age_phrase or listing.sentences)
    ):
        if style.length == "short":
            style = evolve(style, length="normal")
        return style, None
    matches = _find(listing, what)
    if not matches:
        return style, (
            f"mentioning “{what}” (it isn't in the listing details, and drafts only state "
            "facts from the listing)"
        )
    item = matches[0]
    if item not in style.highlights:
        style = evolve(
            style,
            highlights=(*style.highlights, item),
            excluded=tuple(x for x in style.excluded if x != item),
        )
    return style, None


def _note(missed: list[str], *, unchanged: bool) -> str | None:
    if not missed:
        return "Nothing in the feedback changed the draft." if unchanged else None
    note = "The built-in writer couldn't apply " + "; ".join(missed) + "."
    note += (
        " Rephrase it (for example 'shorter', 'no emoji', 'mention the clubhouse', "
        "'call to action: \"…\"'), edit the text yourself, or set OPENAI_API_KEY for "
        "free-form rewrites."
    )
    if unchanged:
        note += " The draft is unchanged."
    return note
