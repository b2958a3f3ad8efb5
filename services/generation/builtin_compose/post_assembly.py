"""Whole texts from the built-in writer's sentences: the post body, the Facebook post, the
Instagram caption, hashtags, the flyer, and the disclosure line each ends with."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from services.generation.builtin_compose.listing_digest import ListingDigest
from services.generation.builtin_compose.sentences import (
    age_sentence,
    amenities_sentence,
    call_to_action,
    capitalized,
    description_sentences,
    features_sentence,
    headline,
    highlight_sentence,
    opening,
    pick,
    price_sentence,
    stats_parts,
    stats_sentence,
    template_moment,
    variant_key,
    visible_items,
    was_now,
)
from services.generation.builtin_compose.wording_templates import (
    EMOJI,
    FB_LINK,
    FB_TAG_COUNT,
    FEATURE_TAGS,
    GENERIC_TAGS,
    IG_LINK,
    IG_NO_LINK,
    LOCATION,
    STATES,
    TAG_COUNT,
)
from services.generation.builtin_style import Style
from services.generation.checks.disclosure import (
    EQUAL_HOUSING_OPPORTUNITY,
    builder_credit,
    license_words,
)
from services.generation.content import normalize_hashtag, normalize_hashtags
from services.generation.listing_facts import AgentProfile, format_sqft, plural


def body_paragraphs(listing: ListingDigest, style: Style) -> list[str]:
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
        fourth.append(LOCATION[style.tone].format_map(listing.values))
    layout = pick(variant_key(listing, style), "layout", (0, 1, 2))
    if layout == 1:  # the story before the numbers
        order = [first, fourth, second, third]
    elif layout == 2:  # numbers up front, in the opening paragraph
        order = [first + second, third, fourth]
    else:
        order = [first, second, third, fourth]
    return [" ".join(p) for p in order if p]


def hashtags(listing: ListingDigest, style: Style) -> list[str]:
    """The hashtag set: the draft's moment, place, then a stable shuffle of general tags."""
    if style.hashtags is not None:
        return list(style.hashtags)
    return default_hashtags(listing, style, TAG_COUNT[style.length])


def default_hashtags(listing: ListingDigest, style: Style, count: int) -> list[str]:
    """`count` tags for this listing, always in the same order for the same listing."""
    f = listing.facts
    moment = template_moment(listing)
    lead = {
        "price_improvement": ["#PriceImprovement", "#NewPrice"],
        "upcoming": ["#ComingSoon"],
        "new_listing": ["#JustListed"],
        "now_selling": ["#NowSelling", "#NewListing"],
        "just_sold": ["#JustSold", "#Sold"],
        "back_on_market": ["#BackOnTheMarket", "#AvailableAgain"],
    }[moment]
    city = normalize_hashtag(f.city) or ""
    state = STATES.get(f.state.strip().upper(), f.state.strip())
    place = [
        city,
        f"{city}RealEstate",
        f"{city}Homes",
        normalize_hashtag(f.community or "") or "",
        f"#{state}Homes",
        f"#{state}RealEstate",
    ]
    extra = [tag for pattern, tag in FEATURE_TAGS if any(pattern.search(x) for x in f.key_features)]
    if listing.age_phrase:
        extra.append("#ActiveAdult" if "active" in listing.age_phrase else "#55PlusCommunity")
    key = f"{f.source_id}|tags"
    generic = sorted(GENERIC_TAGS, key=lambda t: hashlib.blake2b(f"{key}|{t}".encode()).digest())
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
    listing: ListingDigest, style: Style, head: str, body: list[str], cta: str, tags: list[str]
) -> str:
    """The Facebook post: fuller text, a link to the listing, a few hashtags."""
    lead = {
        "none": "",
        "normal": f"{EMOJI['home']} ",
        "more": f"{EMOJI['home']}{EMOJI['spark']} ",
    }
    blocks = [lead[style.emoji] + head, *body]
    cta_line = (f"{EMOJI['cta']} " if style.emoji == "more" else "") + cta
    if listing.facts.source_url:
        cta_line += "\n" + FB_LINK[style.tone].format(url=listing.facts.source_url)
    blocks += [cta_line, disclosure(listing.agent)]
    if tags:
        blocks.append(" ".join(tags[:FB_TAG_COUNT]))
    return "\n\n".join(blocks)


def instagram_text(
    listing: ListingDigest, style: Style, body: list[str], cta: str, tags: list[str]
) -> str:
    """The Instagram caption: short lines, emoji, no link, hashtags last."""
    f, v, e = listing.facts, listing.values, style.emoji != "none"
    hook = opening(listing, style)
    if style.emoji == "normal":
        hook = f"{EMOJI['home']} {hook}"
    elif style.emoji == "more":
        hook = f"{EMOJI['home']}{EMOJI['spark']} {hook} {EMOJI['key']}"
    lines: list[str] = []

    def line(icon: str, text: str) -> str:
        return f"{EMOJI[icon]} {text}" if e else text

    row1 = [line("beds", plural(f.beds, "bedroom"))] if f.beds is not None else []
    if f.baths is not None:
        row1.append(line("baths", plural(f.baths, "bath")))
    row2 = [line("sqft", f"{format_sqft(f.sqft)} sq ft")] if f.sqft is not None else []
    if f.garage:
        row2.append(line("garage", f"{f.garage}-car garage"))
    lines += [" | ".join(r) for r in (row1, row2) if r]
    if style.show_price and "price" in v:
        price = v["price"]
        if "prev" in listing.available and listing.purpose == "price_improvement":
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
        middle = [f"{EMOJI['check']} {m}" for m in middle]

    link = (IG_LINK if f.source_url else IG_NO_LINK)[style.tone]
    ig_cta = _strip_urls(cta) if style.cta else cta
    cta_block = f"{link} {ig_cta}"
    if e:
        cta_block = f"{EMOJI['cta']} {cta_block}"

    blocks = [hook, "\n".join(lines)]
    if middle:
        text = ("\n" if style.emoji == "more" else " ").join(middle)
        # Some captions tell the story before the numbers.
        if pick(variant_key(listing, style), "ig_layout", (0, 1)):
            blocks.insert(1, text)
        else:
            blocks.append(text)
    blocks += [cta_block, disclosure(listing.agent)]
    if tags:
        blocks.append(" ".join(tags))
    return "\n\n".join(blocks)


def flyer_bullets(listing: ListingDigest, style: Style) -> list[str]:
    """Facts first, then what the agent asked to highlight, then features and amenities."""
    f = listing.facts
    bullets = stats_parts(f, long_form=True)
    bullets = [capitalized(b.removeprefix("a ")) for b in bullets]
    if listing.age_phrase:
        bullets.append(capitalized(listing.age_phrase.removeprefix("an ").removeprefix("a ")))
    bullets += [capitalized(h) for h in style.highlights if h[-1:] not in ".!?"]
    cap = {"short": 5, "normal": 8, "long": 8}[style.length]
    bullets += [capitalized(x) for x in visible_items(listing.features, style, cap)]
    bullets += [capitalized(x) for x in visible_items(listing.amenities, style, cap)]
    return list(dict.fromkeys(bullets))[:cap] or [f"{f.address}, {f.city}"]


def flyer_subheadline(listing: ListingDigest, style: Style) -> str:
    """Address line with the price."""
    v = listing.values
    text = f"{v['address']}, {v['city']}, {v['state']} {v['zip']}"
    if style.show_price and "price" in v:
        text += f" · {v['price']}"
        if "prev" in listing.available and listing.purpose == "price_improvement":
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


def compose_social(listing: ListingDigest, style: Style) -> dict[str, Any]:
    """A complete social media post dict (validates as SocialPost)."""
    body = body_paragraphs(listing, style)
    head = headline(listing, style)
    if style.emoji == "more":
        head = f"{head} {EMOJI['spark']}"
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


def compose_flyer(listing: ListingDigest, style: Style) -> dict[str, Any]:
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
    return sum(text.count(e) for e in EMOJI.values())


def spark_present(text: str) -> bool:
    """The 'more emoji' style leaves a sparkle; used to read a previous draft's style."""
    return EMOJI["spark"] in text
