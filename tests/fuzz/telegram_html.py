"""A strict checker for the HTML the bot sends with parse_mode=HTML.

Stricter than Telegram itself (which lets a stray `>` or `&` through): every `<`, `>` and
`&` in text must be escaped, every tag must be one Telegram knows with only the attributes
it allows, and every tag must be closed in order. Returns what Telegram would show, so
lengths can be counted the way Telegram counts them (UTF-16 code units of that text).
"""

from __future__ import annotations

import html
import re

# Tag -> the attributes it may carry (name -> pattern of the unescaped value), and
# whether one of them is required.
_ALLOWED: dict[str, tuple[dict[str, re.Pattern[str]], bool]] = {
    **{
        tag: ({}, False)
        for tag in ("b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler")
    },
    "a": ({"href": re.compile(r".+", re.S)}, True),
    "span": ({"class": re.compile("tg-spoiler")}, True),
    "tg-emoji": ({"emoji-id": re.compile("[1-9][0-9]*")}, True),
    "code": ({"class": re.compile("language-[A-Za-z0-9_+-]+")}, False),
    "pre": ({}, False),
    "blockquote": ({"expandable": re.compile("")}, False),
}
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});")
_TAG = re.compile(r"<(/?)([a-z][a-z-]*)((?:\s+[a-z-]+(?:=\"[^\"<>]*\")?)*)\s*>")
_ATTR = re.compile(r"\s+([a-z-]+)(?:=\"([^\"<>]*)\")?")


class InvalidTelegramHtml(AssertionError):
    """The text would be refused by Telegram, or shows a character it should have escaped."""


def visible_text(source: str) -> str:
    """The text Telegram shows for `source`; raises InvalidTelegramHtml if it is not valid."""
    out: list[str] = []
    stack: list[str] = []
    at = 0
    while at < len(source):
        char = source[at]
        if char == "<":
            match = _TAG.match(source, at)
            if match is None:
                raise InvalidTelegramHtml(f"unescaped '<' at {at}: {source[at : at + 20]!r}")
            closing, name, attrs = match.groups()
            if name not in _ALLOWED:
                raise InvalidTelegramHtml(f"tag <{name}> is not one Telegram knows")
            if closing:
                if attrs:
                    raise InvalidTelegramHtml(f"closing tag </{name}> with attributes")
                if not stack or stack[-1] != name:
                    raise InvalidTelegramHtml(f"</{name}> closes {stack[-1:] or 'nothing'}")
                stack.pop()
            else:
                _check_attributes(name, attrs)
                stack.append(name)
            at = match.end()
        elif char == "&":
            match = _ENTITY.match(source, at)
            if match is None:
                raise InvalidTelegramHtml(f"unescaped '&' at {at}: {source[at : at + 12]!r}")
            out.append(html.unescape(match.group(0)))
            at = match.end()
        elif char == ">":
            raise InvalidTelegramHtml(f"unescaped '>' at {at}")
        else:
            out.append(char)
            at += 1
    if stack:
        raise InvalidTelegramHtml(f"tags left open: {stack}")
    return "".join(out)


def _check_attributes(name: str, attrs: str) -> None:
    allowed, required = _ALLOWED[name]
    seen = set()
    for attr in _ATTR.finditer(attrs):
        key, value = attr.group(1), attr.group(2)
        if key not in allowed:
            raise InvalidTelegramHtml(f"<{name}> may not carry {key!r}")
        if value is not None and _ENTITY.sub("", value).count("&"):
            raise InvalidTelegramHtml(f"unescaped '&' in <{name} {key}>")
        if not allowed[key].fullmatch(html.unescape(value or "")):
            raise InvalidTelegramHtml(f"<{name} {key}={value!r}> is not a value Telegram takes")
        seen.add(key)
    if required and not seen:
        raise InvalidTelegramHtml(f"<{name}> lacks its attribute")


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2
