"""The built-in writer's text, from listing facts and a Style, with no network:
wording templates, the listing digest, sentences, and assembled posts and flyers."""

from services.generation.builtin_compose.listing_digest import ListingDigest, digest
from services.generation.builtin_compose.post_assembly import (
    body_paragraphs,
    compose_flyer,
    compose_social,
    default_hashtags,
    emoji_count,
    hashtags,
    spark_present,
)
from services.generation.builtin_compose.sentences import (
    all_ctas,
    highlight_sentence,
    opening,
    resolve_channel,
)

__all__ = [
    "ListingDigest",
    "all_ctas",
    "body_paragraphs",
    "compose_flyer",
    "compose_social",
    "default_hashtags",
    "digest",
    "emoji_count",
    "hashtags",
    "highlight_sentence",
    "opening",
    "resolve_channel",
    "spark_present",
]
