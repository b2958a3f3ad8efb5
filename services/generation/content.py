"""The `generated_text` shapes: a social media post and flyer text, validated with pydantic.

The same models are the strict JSON schema the OpenAI writer asks for, so validation here is
done with after-validators (they do not change the schema).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ContentKind = Literal["social_media_post", "flyer_text"]

_HASHTAG_PARTS = re.compile(r"[^\W_]+|_", re.UNICODE)
_BULLET_MARK = re.compile(r"^\s*(?:[-*•·–]|\d+[.)])(?:\s+|$)")


def normalize_hashtag(raw: str) -> str | None:
    """'new homes' / '#newHomes' → '#NewHomes'; None when nothing usable is left."""
    parts = [p for p in _HASHTAG_PARTS.findall(raw.strip().lstrip("#")) if p != "_"]
    if not parts:
        return None
    return "#" + "".join(p[:1].upper() + p[1:] for p in parts)


def normalize_hashtags(raw: list[str]) -> list[str]:
    """Normalise each tag, drop empties and case-insensitive duplicates, keep order."""
    seen: set[str] = set()
    out: list[str] = []
    for item in raw:
        tag = normalize_hashtag(item)
        if tag is None or tag.lower() in seen:
            continue
        seen.add(tag.lower())
        out.append(tag)
    return out


def _non_empty(value: str, what: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValueError(f"{what} must not be empty")
    return cleaned


class SocialPost(BaseModel):
    """A social media post; the platform texts are exactly what gets published."""

    model_config = ConfigDict(extra="forbid")

    headline: str = Field(description="A short, specific headline (under 80 characters).")
    body: str = Field(
        description="The main descriptive text, platform-neutral: no hashtags, no emoji, no URL."
    )
    hashtags: list[str] = Field(
        description="Relevant hashtags, each like #NewHomes, no duplicates."
    )
    call_to_action: str = Field(
        description="One sentence telling the reader how to reach the agent."
    )
    facebook_text: str = Field(
        description="The full Facebook post exactly as published, including the disclosure line."
    )
    instagram_text: str = Field(
        description=(
            "The full Instagram caption exactly as published: line breaks, a few emoji, no URL "
            "(say 'link in bio'), the disclosure line, hashtags at the end."
        )
    )

    @field_validator("headline", "body", "call_to_action", "facebook_text", "instagram_text")
    @classmethod
    def _text_present(cls, value: str) -> str:
        return _non_empty(value, "text")

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return normalize_hashtags(value)


class FlyerText(BaseModel):
    """Text blocks for a printed or PDF flyer."""

    model_config = ConfigDict(extra="forbid")

    headline: str = Field(description="The flyer's headline (under 60 characters).")
    subheadline: str = Field(description="Address, city and price in one line.")
    bullets: list[str] = Field(description="4 to 8 short feature bullets, facts only, no markers.")
    description: str = Field(description="One or two paragraphs describing the home.")
    call_to_action: str = Field(
        description="One sentence telling the reader how to reach the agent."
    )
    agent_contact: str = Field(
        description="Agent name, brokerage, phone and email, and 'Equal Housing Opportunity'."
    )

    @field_validator("headline", "subheadline", "description", "call_to_action", "agent_contact")
    @classmethod
    def _text_present(cls, value: str) -> str:
        return _non_empty(value, "text")

    @field_validator("bullets")
    @classmethod
    def _bullets(cls, value: list[str]) -> list[str]:
        cleaned = [_BULLET_MARK.sub("", b).strip() for b in value]
        out = [b for b in dict.fromkeys(cleaned) if b]
        if not out:
            raise ValueError("a flyer needs at least one bullet")
        return out


Content = SocialPost | FlyerText

CONTENT_MODELS: dict[ContentKind, type[SocialPost] | type[FlyerText]] = {
    "social_media_post": SocialPost,
    "flyer_text": FlyerText,
}

# Fields the checks read, per kind; platform texts are what gets published.
PLATFORM_FIELDS: dict[ContentKind, tuple[str, ...]] = {
    "social_media_post": ("facebook_text", "instagram_text"),
    "flyer_text": ("agent_contact",),
}


def content_to_json(content: Content) -> dict[str, Any]:
    """The `generated_text` JSON dict for a validated model."""
    return content.model_dump(mode="json")


def content_from_json(kind: ContentKind, data: dict[str, Any]) -> Content:
    """Validate a `generated_text` dict back into its model (raises pydantic.ValidationError)."""
    return CONTENT_MODELS[kind].model_validate(data)


def text_fields(data: dict[str, Any]) -> dict[str, str]:
    """Every human-readable text in a content dict, by field name (bullets as bullets[i])."""
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, list) and key != "hashtags":
            for i, item in enumerate(value):
                if isinstance(item, str):
                    out[f"{key}[{i}]"] = item
    return out


def distinct_texts(data: dict[str, Any]) -> list[str]:
    """The texts of a content dict minus any that appear verbatim inside another one.

    The body, headline and call to action usually sit inside the platform texts; checking them
    again would only repeat the same findings.
    """
    texts = sorted(set(text_fields(data).values()), key=len, reverse=True)
    kept: list[str] = []
    for text in texts:
        if not any(text in longer for longer in kept):
            kept.append(text)
    return kept
