"""Tolerant decoding of fetched bytes: never raises, says when it had to guess."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_FALLBACK = "windows-1252"


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes; `lossy` is true when the bytes did not match their charset."""

    text: str
    charset: str
    lossy: bool


def _codec_name(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def sniff_meta_charset(body: bytes) -> str | None:
    """The charset named by a `<meta charset>` in the first 4 KB of an HTML document."""
    match = _META_CHARSET.search(body[:4096])
    return _codec_name(match.group(1).decode("ascii", "ignore")) if match else None


def decode_bytes(body: bytes, declared_charset: str | None = None) -> Decoded:
    """Decode with the declared charset, else the meta charset, else UTF-8.

    Bytes that do not fit that charset are decoded as Windows-1252 (what mislabelled
    Western pages almost always are), with undecodable bytes replaced; `lossy` reports it.
    """
    if body.startswith(codecs.BOM_UTF8):
        return Decoded(body[len(codecs.BOM_UTF8) :].decode("utf-8", "replace"), "utf-8", False)
    charset = _codec_name(declared_charset) or sniff_meta_charset(body) or "utf-8"
    try:
        return Decoded(body.decode(charset), charset, False)
    except UnicodeDecodeError:
        return Decoded(body.decode(_FALLBACK, "replace"), _FALLBACK, True)
