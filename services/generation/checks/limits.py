"""Platform limits: fit each text to its platform, shortening sensibly and saying so.

Trimming order for a text that is too long: hashtags beyond the first few, then whole middle
paragraphs (never the opening, the call to action or the disclosure), then sentences at the end
of the longest paragraph, and only then a hard cut.
"""

from __future__ import annotations

import re
from typing import Any

from services.generation.checks.disclosure import EQUAL_HOUSING_OPPORTUNITY
from services.generation.checks.warning import CheckWarning
from services.generation.content import ContentKind, normalize_hashtags

INSTAGRAM_CAPTION_MAX = 2_200
INSTAGRAM_HASHTAGS_MAX = 30
# Facebook accepts 63,206 characters; 3,000 is our own cap: long enough for any listing post,
# short enough to read on a phone and to preview in one Telegram message.
FACEBOOK_TEXT_HARD_MAX = 63_206
FACEBOOK_TEXT_MAX = 3_000
FLYER_BULLETS_MAX = 8
# For the bot's renderer (it owns previews; these are the Bot API's limits).
TELEGRAM_TEXT_MAX = 4_096
TELEGRAM_CAPTION_MAX = 1_024
TELEGRAM_CALLBACK_DATA_MAX_BYTES = 64

_HASHTAG = re.compile(r"(?<![\w&#])#\w+", re.UNICODE)
_HASHTAG_ONLY = re.compile(r"^\s*(?:#\w+\s*)+$", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MIN_TAGS_KEPT = 5


def count_hashtags(text: str) -> int:
    """Hashtags as Instagram counts them (every '#word')."""
    return len(_HASHTAG.findall(text))


def apply_limits(
    kind: ContentKind, content: dict[str, Any]
) -> tuple[dict[str, Any], list[CheckWarning]]:
    """Content fitted to every platform's limits, with a warning for each change made."""
    fixed = dict(content)
    warnings: list[CheckWarning] = []
    if kind == "social_media_post":
        if isinstance(fixed.get("instagram_text"), str):
            fixed["instagram_text"], w = fit_instagram(fixed["instagram_text"])
            warnings += w
        if isinstance(fixed.get("facebook_text"), str):
            fixed["facebook_text"], w = fit_text(
                fixed["facebook_text"], FACEBOOK_TEXT_MAX, "Facebook"
            )
            warnings += w
        tags = fixed.get("hashtags")
        if isinstance(tags, list) and len(tags) > INSTAGRAM_HASHTAGS_MAX:
            fixed["hashtags"] = normalize_hashtags([str(t) for t in tags])[:INSTAGRAM_HASHTAGS_MAX]
    elif kind == "flyer_text":
        bullets = fixed.get("bullets")
        if isinstance(bullets, list) and len(bullets) > FLYER_BULLETS_MAX:
            fixed["bullets"] = bullets[:FLYER_BULLETS_MAX]
            warnings.append(
                CheckWarning(
                    kind="limits",
                    message=(
                        f"The flyer had {len(bullets)} bullets; kept the first "
                        f"{FLYER_BULLETS_MAX} so it fits on the page."
                    ),
                    suggestion="Ask for a revision if a different feature should be listed.",
                )
            )
    return fixed, warnings


def fit_instagram(text: str) -> tuple[str, list[CheckWarning]]:
    """An Instagram caption within 30 hashtags and 2,200 characters."""
    warnings: list[CheckWarning] = []
    tags = _HASHTAG.findall(text)
    if len(tags) > INSTAGRAM_HASHTAGS_MAX:
        text = _drop_hashtags(text, len(tags) - INSTAGRAM_HASHTAGS_MAX)
        warnings.append(
            CheckWarning(
                kind="limits",
                message=(
                    f"Instagram allows {INSTAGRAM_HASHTAGS_MAX} hashtags; the caption had "
                    f"{len(tags)}, so the last {len(tags) - INSTAGRAM_HASHTAGS_MAX} were removed."
                ),
            )
        )
    text, more = fit_text(text, INSTAGRAM_CAPTION_MAX, "Instagram")
    return text, warnings + more


def fit_text(text: str, limit: int, platform: str) -> tuple[str, list[CheckWarning]]:
    """`text` shortened to `limit` characters, keeping the opening, CTA and disclosure."""
    original = len(text)
    if original <= limit:
        return text, []
    text = _trim_hashtag_block(text, limit)
    if len(text) > limit:
        text = _drop_paragraphs(text, limit)
    if len(text) > limit:
        text = _trim_sentences(text, limit)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text, [
        CheckWarning(
            kind="limits",
            message=(
                f"The {platform} text was {original:,} characters (limit {limit:,}); "
                f"it was shortened to {len(text):,}."
            ),
            suggestion="Read it once more before approving, or ask for a shorter revision.",
        )
    ]


def _drop_hashtags(text: str, how_many: int) -> str:
    """`text` without its last `how_many` hashtags."""
    pieces: list[str] = []
    pos = 0
    for m in list(_HASHTAG.finditer(text))[-how_many:]:
        pieces.append(text[pos : m.start()])
        pos = m.end()
    pieces.append(text[pos:])
    return _tidy(re.sub(r"[ \t]{2,}", " ", "".join(pieces)))


def _trim_hashtag_block(text: str, limit: int) -> str:
    paragraphs = text.split("\n\n")
    if not paragraphs or not _HASHTAG_ONLY.match(paragraphs[-1]):
        return text
    tags = _HASHTAG.findall(paragraphs[-1])
    while (
        len(tags) > _MIN_TAGS_KEPT and len("\n\n".join([*paragraphs[:-1], " ".join(tags)])) > limit
    ):
        tags.pop()
    return "\n\n".join([*paragraphs[:-1], " ".join(tags)])


def _protected(index: int, paragraphs: list[str]) -> bool:
    last_content = max(
        (i for i, p in enumerate(paragraphs) if not _is_fixed(p)), default=len(paragraphs) - 1
    )
    return index == 0 or index == last_content or _is_fixed(paragraphs[index])


def _is_fixed(paragraph: str) -> bool:
    return EQUAL_HOUSING_OPPORTUNITY.lower() in paragraph.lower() or bool(
        _HASHTAG_ONLY.match(paragraph)
    )


def _drop_paragraphs(text: str, limit: int) -> str:
    paragraphs = text.split("\n\n")
    while len("\n\n".join(paragraphs)) > limit:
        candidates = [i for i in range(len(paragraphs)) if not _protected(i, paragraphs)]
        if not candidates:
            break
        longest = max(candidates, key=lambda i: len(paragraphs[i]))
        del paragraphs[longest]
    return "\n\n".join(paragraphs)


def _trim_sentences(text: str, limit: int) -> str:
    paragraphs = text.split("\n\n")
    while len("\n\n".join(paragraphs)) > limit:
        candidates = [i for i, p in enumerate(paragraphs) if not _is_fixed(p)]
        if not candidates:
            break
        longest = max(candidates, key=lambda i: len(paragraphs[i]))
        sentences = _SENTENCE_END.split(paragraphs[longest])
        if len(sentences) <= 1:
            break
        paragraphs[longest] = " ".join(sentences[:-1])
    return "\n\n".join(paragraphs)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
