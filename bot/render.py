"""Telegram text helpers: HTML escaping, Telegram's length limits, and small formatters.

Every message the bot sends uses ``parse_mode=HTML``. Telegram counts its limits on the
text *after* entity parsing (tags removed, ``&lt;`` counted as one character) in UTF-16
code units, so an emoji outside the BMP counts as two. The functions here count the same
way and never cut inside a tag or an entity.

They expect Telegram-flavoured HTML as built with :func:`escape` and the tag helpers
below. A stray ``<`` or ``&`` that is not part of a tag or entity is treated as text and
re-escaped in any output these functions build.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from typing import NamedTuple

from services.display import fmt_dt, money

__all__ = [
    "MAX_CALLBACK_ANSWER",
    "MAX_CAPTION",
    "MAX_TEXT",
    "bold",
    "code",
    "escape",
    "fit_answer",
    "fit_caption",
    "fit_text",
    "fmt_dt",
    "italic",
    "link",
    "money",
    "split_message",
    "truncate_html",
    "visible_length",
]

MAX_TEXT = 4096
"""sendMessage / editMessageText ``text``, after entity parsing."""
MAX_CAPTION = 1024
"""Photo and media-group ``caption``, after entity parsing."""
MAX_CALLBACK_ANSWER = 200
"""answerCallbackQuery ``text`` (plain text, no parse mode)."""

ELLIPSIS = "…"

# Tags Telegram's HTML parse mode understands; anything else is treated as text.
_TELEGRAM_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_ATTRS = r"""(?:\s+[^\s=>"'/]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))*"""
_TOKEN_RE = re.compile(
    rf"(?P<tag><(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?(close)\s*|{_ATTRS}\s*)>)"
    r"|(?P<entity>&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)"
    r"|(?P<text>[^<&]+)"
    r"|(?P<stray>[<&])"
)


class _Token(NamedTuple):
    """A tag, an entity (never split) or a run of text (split only between characters)."""

    raw: str  # the HTML as it will be written
    text: str = ""  # what it shows ("" for tags)
    width: int = 0  # UTF-16 code units of ``text``
    tag: str = ""  # lower-case tag name, for tags
    closing: bool = False
    atomic: bool = False  # an entity: one visible character that must stay whole


def _u16(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _run(text: str) -> _Token:
    return _Token(escape(text), text, _u16(text))


@functools.lru_cache(maxsize=512)
def _entity(piece: str) -> _Token:
    char = html.unescape(piece)
    return _Token(piece, char, _u16(char), atomic=True)


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_RE.finditer(source):
        kind = match.lastgroup
        piece = match.group(0)
        if kind == "text":
            tokens.append(_Token(piece, piece, _u16(piece)))
        elif kind == "entity":
            tokens.append(_entity(piece))
        elif kind == "tag" and (name := match.group("name").lower()) in _TELEGRAM_TAGS:
            tokens.append(_Token(piece, "", 0, name, match.group("close") is not None))
        else:
            # A stray "<" or "&", or a tag Telegram does not know: shown as text, re-escaped.
            tokens.append(_run(piece))
    return tokens


def _fitting_prefix(text: str, room: int) -> int:
    """How many characters of ``text`` fit in ``room`` UTF-16 code units."""
    if text.isascii():
        return min(len(text), room)
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            return index
    return len(text)


def escape(text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` for Telegram's HTML parse mode (quotes stay as-is)."""
    return html.escape(text, quote=False)


def bold(text: str) -> str:
    """``text`` in bold, escaped."""
    return f"<b>{escape(text)}</b>"


def italic(text: str) -> str:
    """``text`` in italics, escaped."""
    return f"<i>{escape(text)}</i>"


def code(text: str) -> str:
    """``text`` in monospace, escaped."""
    return f"<code>{escape(text)}</code>"


def link(label: str, url: str) -> str:
    """A link with an escaped label and an escaped ``href``."""
    return f'<a href="{html.escape(url, quote=True)}">{escape(label)}</a>'


def visible_length(source: str) -> int:
    """The length Telegram checks against its limits: visible text in UTF-16 code units."""
    return sum(token.width for token in _tokens(source))


def _apply(stack: list[_Token], token: _Token) -> None:
    """Track open tags; an unmatched closing tag is ignored."""
    if not token.tag:
        return
    if not token.closing:
        stack.append(token)
    elif stack and stack[-1].tag == token.tag:
        stack.pop()


def _trim_tail(tokens: list[_Token]) -> None:
    """Drop trailing whitespace and trailing tags that would open an empty element."""
    while tokens:
        last = tokens[-1]
        if last.tag and not last.closing:
            tokens.pop()
        elif last.tag or last.atomic:
            return
        else:
            kept = last.text.rstrip()
            if kept:
                if kept != last.text:
                    tokens[-1] = _run(kept)
                return
            tokens.pop()


def _render(tokens: Sequence[_Token], opened: Sequence[_Token] = ()) -> str:
    """Join tokens after re-opening ``opened``, closing whatever is left open."""
    stack = list(opened)
    for token in tokens:
        _apply(stack, token)
    closers = "".join(f"</{token.tag}>" for token in reversed(stack))
    return "".join(t.raw for t in opened) + "".join(t.raw for t in tokens) + closers


def _last_space(text: str) -> int:
    return max(text.rfind(" "), text.rfind("\n"))


def truncate_html(source: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """Shorten HTML to at most ``limit`` visible characters, ending with ``ellipsis``.

    Cuts at a word boundary near the limit when there is one, never inside a tag or an
    entity, and closes every tag left open. Returns ``source`` unchanged if it fits.
    """
    tokens = _tokens(source)
    if sum(token.width for token in tokens) <= limit:
        return source
    budget = limit - _u16(ellipsis)
    if budget < 0:
        raise ValueError("limit is shorter than the ellipsis")
    kept: list[_Token] = []
    used = 0
    space: tuple[int, int, int] | None = None  # kept index, char index, visible chars before
    for token in tokens:
        if token.width and used + token.width > budget:
            if not token.atomic:
                cut = _fitting_prefix(token.text, budget - used)
                if cut:
                    token = _run(token.text[:cut])
                    kept.append(token)
                    at = _last_space(token.text)
                    if at >= 0:
                        space = (len(kept) - 1, at, used + _u16(token.text[:at]))
            break
        kept.append(token)
        if token.width and not token.atomic:
            at = _last_space(token.text)
            if at >= 0:
                space = (len(kept) - 1, at, used + _u16(token.text[:at]))
        used += token.width
    # A word boundary within the last quarter of the budget reads better than a hard cut.
    if space is not None and space[2] * 4 >= budget * 3:
        index, at, _ = space
        kept[index:] = [_run(kept[index].text[:at])]
    _trim_tail(kept)
    return _render([*kept, _run(ellipsis)])


def fit_text(source: str, limit: int = MAX_TEXT) -> str:
    """Shorten a message text to Telegram's limit (see :func:`truncate_html`)."""
    return truncate_html(source, limit)


def fit_caption(source: str, limit: int = MAX_CAPTION) -> str:
    """Shorten a photo caption to Telegram's limit (see :func:`truncate_html`)."""
    return truncate_html(source, limit)


def fit_answer(text: str, limit: int = MAX_CALLBACK_ANSWER) -> str:
    """Shorten a plain-text callback answer (no parse mode) to Telegram's limit."""
    if _u16(text) <= limit:
        return text
    out: list[str] = []
    used = _u16(ELLIPSIS)
    for ch in text:
        used += _u16(ch)
        if used > limit:
            break
        out.append(ch)
    return "".join(out).rstrip() + ELLIPSIS


# Break priorities when a message must be split: paragraph > line > word.
_BREAKS = (("\n\n", 3), ("\n", 2), (" ", 1))


def split_message(source: str, limit: int = MAX_TEXT) -> list[str]:
    """Split HTML into messages of at most ``limit`` visible characters each.

    Prefers paragraph breaks, then line breaks, then spaces, taking the latest one in
    the second half of a part (or the latest at all), else cuts between characters.
    Tags open at a cut are closed at the end of one part and re-opened at the start of
    the next. Parts with no visible text are dropped, so a blank ``source`` gives ``[]``.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    tokens = _tokens(source)
    if sum(token.width for token in tokens) <= limit:
        # Telegram refuses a message whose text is blank once tags are removed.
        return [source] if any(token.text.strip() for token in tokens) else []
    parts: list[str] = []
    opened: list[_Token] = []  # tags open at the start of the current part
    start = 0
    while start < len(tokens):
        stack = list(opened)
        used = 0
        # priority -> (token index, chars of that token kept, visible chars, open tags)
        breaks: dict[int, tuple[int, int, int, list[_Token]]] = {}
        index = start
        hard: tuple[int, int, int, list[_Token]] | None = None
        while index < len(tokens):
            token = tokens[index]
            fits = used + token.width <= limit
            if token.width and not token.atomic:
                seen = (
                    token.text if fits else token.text[: _fitting_prefix(token.text, limit - used)]
                )
                snapshot: list[_Token] | None = None
                for separator, priority in _BREAKS:
                    at = seen.rfind(separator)
                    if at >= 0:
                        snapshot = snapshot if snapshot is not None else list(stack)
                        cut = at + len(separator)
                        breaks[priority] = (index, cut, used + _u16(seen[:cut]), snapshot)
                if not fits:
                    hard = (index, len(seen), limit, list(stack))
            elif not fits:
                hard = (index, 0, used, list(stack))
            if not fits:
                break
            used += token.width
            _apply(stack, token)
            index += 1
        if hard is None:
            body = tokens[start:]
            _trim_tail(body)
            if any(t.text.strip() for t in body):
                parts.append(_render(body, opened))
            break
        ranked = [breaks[p] for _, p in _BREAKS if p in breaks]
        late = [b for b in ranked if b[2] * 2 >= limit]
        cut_index, cut_chars, _, cut_stack = (late or ranked or [hard])[0]
        body = tokens[start:cut_index]
        rest = tokens[cut_index]
        if cut_chars:
            body.append(_run(rest.text[:cut_chars]))
            remainder = rest.text[cut_chars:]
            if remainder:
                tokens[cut_index] = _run(remainder)
            else:
                cut_index += 1
        _trim_tail(body)
        if any(t.text.strip() for t in body):
            parts.append(_render(body, opened))
        opened = cut_stack
        start = cut_index
        # The next part starts at visible text, not at the whitespace that ended this one.
        while start < len(tokens) and tokens[start].width and not tokens[start].atomic:
            stripped = tokens[start].text.lstrip()
            if stripped:
                if stripped != tokens[start].text:
                    tokens[start] = _run(stripped)
                break
            start += 1
    return parts
