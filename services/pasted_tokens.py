"""Recognising an access token pasted as an ordinary message (PRODUCT.md §11).

A message that holds one is deleted and never stored or sent anywhere; the bot reads every
text through `looks_like_token` before anything else does.
"""

from __future__ import annotations

import re

# Meta user and Page tokens (EAA…) and Instagram tokens (IGAA…, IGQV…): long URL-safe runs.
_META = re.compile(r"(?<![A-Za-z0-9_-])(?:EAA|IGAA|IGQV)[A-Za-z0-9_-]{30,}")
# A Telegram bot token: the bot's id, a colon, the secret.
_BOT = re.compile(r"(?<![A-Za-z0-9])\d{6,12}:[A-Za-z0-9_-]{30,}")
# Any other long opaque run of URL-safe characters, not a hashtag or a mention.
_OPAQUE = re.compile(r"(?<![A-Za-z0-9_#@-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])")
# Links are left to the two rules above: a slug or a query string is long but no secret.
_LINK = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+")
_HEX = frozenset("0123456789abcdefABCDEF")


def _random_looking(run: str) -> bool:
    """Generated secrets mix upper case, lower case and digits, or are long hex strings;
    words joined by dashes or underscores are not like that."""
    digits = any(c.isdigit() for c in run)
    if digits and set(run) <= _HEX and any(c.isalpha() for c in run):
        return True
    return digits and any(c.islower() for c in run) and any(c.isupper() for c in run)


def looks_like_token(text: str) -> bool:
    """Whether `text` holds something shaped like an access token or API key."""
    if _META.search(text) or _BOT.search(text):
        return True
    return any(_random_looking(run) for run in _OPAQUE.findall(_LINK.sub(" ", text)))
