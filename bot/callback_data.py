"""Compact, signed callback data for inline buttons (Telegram allows 1-64 bytes).

Wire format (ASCII only, so characters == bytes)::

    <action>:<entity id, 22 chars base64url>:<version>:<extra>:<mac, 10 chars base64url>

``<action>`` is one short code from :class:`Action`; handlers route on it with
``CallbackQueryHandler(handler, pattern=pattern(Action.APPROVE))`` (that is ``"^a:"``).
The MAC is HMAC-SHA256 over everything before the last ``:``, truncated to 60 bits,
so a client cannot forge or alter a button (stale and replayed buttons are caught by
the ``version`` the services compare, not here).

Actions (code on the wire) and what ``entity_id`` / ``extra`` carry:

    approve             a   content piece               -
    revise              r   content piece               -
    reject              x   content piece               -
    marketing_approved  m   content piece               -
    post_now            p   content piece               -
    cancel              c   content piece               -
    flyer               f   content piece               -
    retry               t   post schedule row           -
    settings (toggles)  s   agent                       setting key, e.g. "n.new"
    disconnect          d   social media account        -
    connect (platform)  k   agent                       "fb" or "ig"
    facebook_page       g   Page offered after a login  -

``extra`` is at most :data:`MAX_EXTRA` characters from ``[A-Za-z0-9_.-]``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "MAX_CALLBACK_DATA",
    "MAX_EXTRA",
    "MAX_VERSION",
    "Action",
    "CallbackData",
    "CallbackSigner",
    "ForgedCallback",
    "pattern",
]

MAX_CALLBACK_DATA = 64
"""Telegram's limit for ``callback_data``, in UTF-8 bytes."""
MAX_EXTRA = 8
MAX_VERSION = 2**31 - 1
_MAC_CHARS = 10
_MIN_KEY_BYTES = 16
_KEY_CONTEXT = b"rltr-mktg/callback-data/v1"
_EXTRA_RE = re.compile(r"[A-Za-z0-9_.-]*")
_VERSION_RE = re.compile(r"0|[1-9][0-9]{0,9}")
_UUID_B64_RE = re.compile(r"[A-Za-z0-9_-]{22}")


class Action(StrEnum):
    """What a button does; the value is the routing prefix written on the wire."""

    APPROVE = "a"
    REVISE = "r"
    REJECT = "x"
    MARKETING_APPROVED = "m"
    POST_NOW = "p"
    CANCEL = "c"
    FLYER = "f"
    RETRY = "t"
    SETTINGS = "s"
    DISCONNECT = "d"
    CONNECT = "k"
    FACEBOOK_PAGE = "g"

    @classmethod
    def parse(cls, value: str) -> Action:
        """Accept a wire code (``"a"``) or a name (``"approve"``); raise ``ValueError``."""
        try:
            return cls(value)
        except ValueError:
            pass
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"unknown callback action {value!r}") from None


class ForgedCallback(ValueError):
    """Callback data that this bot did not sign, or that was altered or is malformed."""


@dataclass(frozen=True, slots=True)
class CallbackData:
    """The decoded content of a button."""

    action: Action
    entity_id: uuid.UUID
    version: int = 0
    extra: str = ""


def pattern(action: Action | str) -> str:
    """The ``CallbackQueryHandler`` pattern that routes *action*, e.g. ``"^a:"``."""
    return f"^{re.escape(Action.parse(action).value)}:"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class CallbackSigner:
    """Signs and verifies callback data with a secret key held by the bot."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"callback signing key must be at least {_MIN_KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def from_secret(cls, secret: str) -> CallbackSigner:
        """Derive the key from a secret string (the bot token), never using it directly."""
        key = hmac.new(secret.encode("utf-8"), _KEY_CONTEXT, hashlib.sha256).digest()
        return cls(key)

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest)[:_MAC_CHARS]

    def encode(
        self,
        action: Action | str,
        entity_id: uuid.UUID,
        version: int = 0,
        extra: str = "",
    ) -> str:
        """Build signed callback data; raise ``ValueError`` if a field is out of range."""
        code = Action.parse(action).value
        if not isinstance(entity_id, uuid.UUID):
            raise TypeError("entity_id must be a uuid.UUID")
        if isinstance(version, bool) or not 0 <= version <= MAX_VERSION:
            raise ValueError(f"version must be an int in 0..{MAX_VERSION}")
        if len(extra) > MAX_EXTRA or not _EXTRA_RE.fullmatch(extra):
            raise ValueError(f"extra must be at most {MAX_EXTRA} characters of [A-Za-z0-9_.-]")
        payload = f"{code}:{_b64(entity_id.bytes)}:{version}:{extra}"
        data = f"{payload}:{self._mac(payload)}"
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:  # pragma: no cover - fields are bounded
            raise ValueError("callback data would exceed Telegram's 64-byte limit")
        return data

    def decode(self, data: str | object) -> CallbackData:
        """Verify and parse callback data; raise :class:`ForgedCallback` if it is not ours."""
        if not isinstance(data, str) or not data.isascii() or len(data) > MAX_CALLBACK_DATA:
            raise ForgedCallback("callback data is not ours")
        payload, sep, mac = data.rpartition(":")
        if not sep or not hmac.compare_digest(mac.encode("ascii"), self._mac(payload).encode()):
            raise ForgedCallback("callback data signature does not match")
        parts = payload.split(":")
        if len(parts) != 4:
            raise ForgedCallback("callback data has the wrong shape")
        code, id_text, version_text, extra = parts
        try:
            action = Action(code)
        except ValueError:
            raise ForgedCallback("callback data names an unknown action") from None
        if not _UUID_B64_RE.fullmatch(id_text):
            raise ForgedCallback("callback data carries a malformed id")
        try:
            raw_id = base64.urlsafe_b64decode(id_text + "==")
        except (binascii.Error, ValueError):  # pragma: no cover - regex admits only valid text
            raise ForgedCallback("callback data carries a malformed id") from None
        if len(raw_id) != 16 or _b64(raw_id) != id_text:
            raise ForgedCallback("callback data carries a malformed id")
        if not _VERSION_RE.fullmatch(version_text) or int(version_text) > MAX_VERSION:
            raise ForgedCallback("callback data carries a malformed version")
        if len(extra) > MAX_EXTRA or not _EXTRA_RE.fullmatch(extra):
            raise ForgedCallback("callback data carries a malformed extra field")
        return CallbackData(action, uuid.UUID(bytes=raw_id), int(version_text), extra)
