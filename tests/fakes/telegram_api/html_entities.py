"""Telegram's HTML parse mode, ported from the behaviour of tdlib's ``parse_html``: text and
entities from HTML, lengths in UTF-16 code units."""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.telegram_api.api_errors import bad_request


def u16len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)


_SIMPLE_ENTITY = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}


_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlParseError(ValueError):
    pass


def _is_space(ch: str) -> bool:
    # td::is_space; "" stands for the terminating NUL of tdlib's C string.
    return ch in ("", " ", "\t", "\r", "\n", "\0", "\v")


def _decode_entity(src: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``src[pos] == '&'`` like Telegram; None if it is not one."""
    n = len(src)
    end = pos + 1
    if end < n and src[end] == "#":
        end += 1
        value = 0
        if end < n and src[end] == "x":
            end += 1
            while end < n and src[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(src[end], 16)
                end += 1
        else:
            while end < n and src[end].isascii() and src[end].isdigit():
                value = value * 10 + int(src[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < n and src[end].isascii() and src[end].isalpha():
            end += 1
        name = src[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[name]
    if end < n and src[end] == ";":
        end += 1
    return char, end


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8", "surrogatepass"))


def checked_link(url: str) -> str | None:
    url = url.strip()
    if not url:
        return None
    if re.match(r"(?i)^(https?|tg|ftp|ton)://", url):
        return url
    if re.match(r"^[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}(/.*)?$", url):
        return "http://" + url
    return None


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, entities) or raise HtmlParseError with Telegram's wording."""
    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, out index
    n = len(src)

    def at(k: int) -> str:
        return src[k] if k < n else ""

    i = 0
    while i < n:
        c = src[i]
        if c == "&":
            decoded = _decode_entity(src, i)
            if decoded is not None:
                ch, i = decoded
                out.append(ch)
                utf16 += u16len(ch)
                continue
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != "/":
            while not _is_space(at(i)) and at(i) != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                )
            tag = src[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(src, begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and _is_space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while not _is_space(at(i)) and at(i) != "=":
                    i += 1
                attr_name = src[attr_begin:i]
                if not attr_name:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(src, begin)}"
                    )
                while i < n and _is_space(at(i)):
                    i += 1
                if at(i) != "=":
                    raise HtmlParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {_byte_offset(src, begin)}"
                    )
                i += 1
                while i < n and _is_space(at(i)):
                    i += 1
                if i >= n:
                    raise HtmlParseError(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(src, begin)}'
                    )
                if at(i) not in ("'", '"'):
                    token_begin = i
                    while at(i) and ((at(i).isascii() and at(i).isalnum()) or at(i) in ".-"):
                        i += 1
                    value = src[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != ">":
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset "
                            f"{_byte_offset(src, token_begin)}"
                        )
                else:
                    quote = src[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and src[i] != quote:
                        if src[i] == "&":
                            decoded = _decode_entity(src, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(src[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise HtmlParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                    )
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(src, begin)}"
                )
            stack.append((tag, argument, utf16, len(out)))
            i += 1  # past '>'
            continue
        # closing tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {_byte_offset(src, begin)}")
        while not _is_space(at(i)) and at(i) != ">":
            i += 1
        end_name = src[begin + 2 : i].lower()
        while i < n and _is_space(at(i)):
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(src, begin)}")
        tag, argument, offset, out_index = stack[-1]
        if end_name and end_name != tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
                f'expected "</{tag}>", found "</{end_name}>"'
            )
        length = utf16 - offset
        if length > 0:
            if tag in _SIMPLE_ENTITY:
                entities.append({"type": _SIMPLE_ENTITY[tag], "offset": offset, "length": length})
            elif tag == "span":
                entities.append({"type": "spoiler", "offset": offset, "length": length})
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise HtmlParseError("Invalid custom emoji identifier specified")
                entities.append(
                    {
                        "type": "custom_emoji",
                        "offset": offset,
                        "length": length,
                        "custom_emoji_id": argument,
                    }
                )
            elif tag == "a":
                url = checked_link(argument or "".join(out[out_index:]))
                if url is not None:
                    entities.append(
                        {"type": "text_link", "offset": offset, "length": length, "url": url}
                    )
            elif tag == "pre":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "code"
                    and last["offset"] == offset
                    and last["length"] == length
                    and last.get("language")
                ):
                    last["type"] = "pre"
                else:
                    entities.append({"type": "pre", "offset": offset, "length": length})
            elif tag == "code":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "pre"
                    and last["offset"] == offset
                    and last["length"] == length
                    and argument
                ):
                    last["language"] = argument
                else:
                    entity = {"type": "code", "offset": offset, "length": length}
                    if argument:
                        entity["language"] = argument
                    entities.append(entity)
        stack.pop()
        i += 1
    if stack:
        raise HtmlParseError(f"Can't find end tag corresponding to start tag {stack[-1][0]}")
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    text = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise HtmlParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return text, entities


def _clean_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's clean-up after parsing: control characters, ``\\r``, then trimming."""
    shift_at: list[int] = []  # new utf16 offset for each old utf16 offset
    out: list[str] = []
    new_off = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        for _ in range(width):
            shift_at.append(new_off)
        code = ord(ch)
        if ch == "\r" or 0x2028 <= code <= 0x202E:
            continue
        if code < 32 and ch != "\n":
            ch = " "
        out.append(ch)
        new_off += width
    shift_at.append(new_off)
    cleaned = "".join(out)
    moved = []
    last = len(shift_at) - 1
    for entity in entities:
        start = shift_at[min(entity["offset"], last)]
        end = shift_at[min(entity["offset"] + entity["length"], last)]
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    stripped_right = cleaned.rstrip(" \n")
    lead = len(stripped_right) - len(stripped_right.lstrip(" \n"))
    final = stripped_right[lead:]
    total = u16len(final)
    result = []
    for entity in moved:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return final, result


def format_text(
    raw: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    """Apply the parse mode like Telegram; raise ApiError for malformed markup."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            text, parsed = parse_html(raw)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif mode in ("markdown", "markdownv2"):
        # Not parsed: tests here use HTML. The raw text is kept (an upper bound on length).
        text, parsed = raw, []
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        parsed = []
        for entity in entities or []:
            if not isinstance(entity, dict) or not all(
                isinstance(entity.get(k), int) and entity[k] >= 0 for k in ("offset", "length")
            ):
                raise bad_request("can't parse entities JSON object")
            parsed.append(dict(entity))
        text = raw
    return _clean_text(text, parsed)
