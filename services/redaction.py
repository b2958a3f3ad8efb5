"""One redaction for every line that leaves the process (logs, CLI, doctor, Telegram alerts).

Two nets: the secrets this process knows (the configured bot token, OpenAI key and
encryption keys, and every Graph token it has sent or decrypted), replaced wherever they
appear; and patterns for secret-shaped text it cannot know (a token in a URL, a header,
another key), so that a secret this process never registered is still masked.
"""

from __future__ import annotations

import re
import threading

MASK = "***"

# Shorter values would mask ordinary words; every real secret here is far longer.
_MIN_SECRET_LEN = 8

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A Bot API token anywhere (URL path `/bot<id>:<secret>/`, PTB's "The token `…`").
    (re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}"), MASK),
    # A token as a URL or form parameter (an OAuth `code` and `state` too: the Login link
    # sent to an agent holds a state, Facebook's redirect back a code).
    (
        re.compile(
            r"(?i)\b((?:access_token|input_token|client_secret|fb_exchange_token|api_key|"
            r"token|code|state)=)[^&\s\"'<>]+"
        ),
        r"\1" + MASK,
    ),
    # An Authorization header, with or without its name.
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1" + MASK),
    # OpenAI keys (sk-…, sk-proj-…).
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), MASK),
    # Meta user/Page tokens (EAA…) and Instagram tokens (IGQ…/IGAA…).
    (re.compile(r"\b(?:EAA|IGQ|IGAA)[A-Za-z0-9_-]{20,}"), MASK),
    # A Fernet key: 32 bytes in URL-safe base64 is 43 characters and one `=`.
    (re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}="), MASK),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_known: re.Pattern[str] | None = None


def remember_secret(*values: str | None) -> None:
    """Add secrets this process holds, so that `redact` masks them wherever they appear."""
    global _known
    new = {v for v in values if v and len(v) >= _MIN_SECRET_LEN and v not in _secrets}
    if not new:
        return
    with _lock:
        _secrets.update(new)
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _known = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every known secret, the given `secrets` and secret-shaped strings masked."""
    remember_secret(*secrets)
    known = _known
    if known is not None:
        text = known.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
