"""A fake Telegram Bot API server that the real python-telegram-bot talks to.

Point PTB at it::

    async with FakeTelegram() as fake:
        app = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(f"{fake.url}/bot")
            .base_file_url(f"{fake.url}/file/bot")
            .build()
        )  # or simply fake.application_builder()
        alice = fake.user(1001, first_name="Alice")
        await alice.send_command("/start", "invite-token")
        reply = await alice.next_message()

Wire format as in ``specs/EXTERNAL_APIS.md`` section 1: ``GET``/``POST /bot{token}/{method}``
with parameters in the query string, a urlencoded form, a JSON body or multipart; the
reply envelope is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": ..., "parameters"?: ...}`` with HTTP status ``N``. HTML parse mode is
parsed the way Telegram's server (tdlib ``parse_html``) does, lengths are counted in
UTF-16 code units after entity parsing, and a flood limiter answers 429 with
``parameters.retry_after``.

Only private chats exist: ``fake.user(uid)`` opens the chat ``uid`` with the bot.
All lookups are dictionary lookups, so benches with thousands of users stay fast.
Times in records (``t``, ``sent_at``...) are ``time.monotonic()`` seconds, the clock of
``asyncio``'s loop.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import itertools
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

from aiohttp import web

from tests.fakes.telegram_webhook import GET_UPDATES_CONFLICT, SET_WEBHOOK_CONFLICT, WebhookSender

T = TypeVar("T")

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
MAX_PHOTO_BYTES = 10 * 1024 * 1024

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument"})
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})

_ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_ERR_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_ERR_BLOCKED = "Forbidden: bot was blocked by the user"
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# How parameters sent as text (query / form / multipart) are typed. PTB sends every
# non-string value through json.dumps; Telegram types each field by its declared type.
_INT_FIELDS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "user_id",
        "reply_to_message_id",
        "message_thread_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "show_caption_above_media",
        "has_spoiler",
        "allow_paid_broadcast",
        "disable_web_page_preview",
    }
)
_JSON_FIELDS = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "entities",
    "media": "media",
    "commands": "commands",
    "scope": "bot command scope",
    "allowed_updates": "allowed updates",
    "reply_parameters": "reply parameters",
    "link_preview_options": "link preview options",
    "menu_button": "menu button",
}


class ApiError(Exception):
    """An error reply: HTTP status == ``error_code``, as Telegram sends it."""

    def __init__(
        self, code: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            out["parameters"] = self.parameters
        return out


@dataclass
class Described:
    """A method's result with the envelope's ``description`` (e.g. "Webhook was set")."""

    result: Any
    description: str


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def u16len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# --------------------------------------------------------------------------------------
# Telegram's HTML parse mode, ported from the behaviour of tdlib's parse_html
# --------------------------------------------------------------------------------------

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


def _checked_link(url: str) -> str | None:
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
                url = _checked_link(argument or "".join(out[out_index:]))
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
            raise _bad(f"can't parse entities: {exc}") from None
    elif mode in ("markdown", "markdownv2"):
        # Not parsed: tests here use HTML. The raw text is kept (an upper bound on length).
        text, parsed = raw, []
    elif mode:
        raise _bad("unsupported parse_mode")
    else:
        parsed = []
        for entity in entities or []:
            if not isinstance(entity, dict) or not all(
                isinstance(entity.get(k), int) and entity[k] >= 0 for k in ("offset", "length")
            ):
                raise _bad("can't parse entities JSON object")
            parsed.append(dict(entity))
        text = raw
    return _clean_text(text, parsed)


# --------------------------------------------------------------------------------------
# Records the tests inspect
# --------------------------------------------------------------------------------------


@dataclass
class Upload:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request as the fake received it (``t`` is ``time.monotonic()`` at arrival)."""

    method: str
    params: dict[str, Any]
    t: float
    status: int = 200
    description: str | None = None
    content_type: str = ""  # how the parameters arrived ("" for none, e.g. PTB's getMe)


@dataclass
class Document:
    """A file sent with sendDocument (uploads only: the bytes are kept for the tests)."""

    file_id: str
    file_name: str | None
    mime_type: str
    data: bytes

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_id[-12:],
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }
        if self.file_name:
            out["file_name"] = self.file_name
        return out


@dataclass
class Photo:
    file_id: str
    file_unique_id: str
    width: int
    height: int
    file_size: int | None = None
    data: bytes | None = None
    url: str | None = None
    file_path: str | None = None

    def sizes(self) -> list[dict[str, Any]]:
        """PhotoSize objects: a thumbnail and the full size, as Telegram returns them."""
        scale = min(1.0, 90 / max(self.width, self.height))
        thumb = {
            "file_id": self.file_id + "_t",
            "file_unique_id": self.file_unique_id + "t",
            "width": max(1, round(self.width * scale)),
            "height": max(1, round(self.height * scale)),
        }
        full: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
        }
        if self.file_size is not None:
            full["file_size"] = self.file_size
        return [thumb, full]


@dataclass
class Edit:
    """The state of a message right after one edit."""

    t: float
    method: str
    text: str | None
    caption: str | None
    reply_markup: dict[str, Any] | None


@dataclass
class FakeMessage:
    """A message in a chat, as the user would see it now."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    sent_at: float
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    raw: str | None = None  # the text or caption exactly as sent (e.g. the HTML source)
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: Photo | None = None
    document: Document | None = None
    media_group_id: str | None = None
    reply_to_message_id: int | None = None
    method: str = ""
    edits: list[Edit] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    deleted_at: float | None = None
    from_user: dict[str, Any] | None = None
    chat: dict[str, Any] | None = None

    @property
    def content(self) -> str:
        """The visible text or caption ("" if none)."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard")
        return rows if isinstance(rows, list) else []

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, row by row, flattened."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_labels(self) -> list[str]:
        return [str(button.get("text", "")) for button in self.buttons]

    @property
    def force_reply(self) -> bool:
        return bool(self.reply_markup and self.reply_markup.get("force_reply"))

    def button(self, label_contains: str) -> dict[str, Any]:
        """The first inline button whose label contains ``label_contains`` (case-insensitive)."""
        needle = label_contains.lower()
        for button in self.buttons:
            if needle in str(button.get("text", "")).lower():
                return button
        raise LookupError(
            f"message {self.message_id} in chat {self.chat_id} has no button containing "
            f"{label_contains!r}; buttons: {self.button_labels}"
        )

    def to_api(
        self, *, with_reply: bool = True, lookup: Callable[[int], Any] | None = None
    ) -> dict[str, Any]:
        """The Message object Telegram would return or deliver."""
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.from_user,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        if self.media_group_id is not None:
            out["media_group_id"] = self.media_group_id
        if self.text is not None:
            out["text"] = self.text
            if self.entities:
                out["entities"] = self.entities
        if self.photo is not None:
            out["photo"] = self.photo.sizes()
        if self.document is not None:
            out["document"] = self.document.to_api()
        if self.caption is not None:
            out["caption"] = self.caption
            if self.caption_entities:
                out["caption_entities"] = self.caption_entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            out["reply_markup"] = self.reply_markup
        if with_reply and self.reply_to_message_id is not None and lookup is not None:
            replied = lookup(self.reply_to_message_id)
            if replied is not None:
                out["reply_to_message"] = replied.to_api(with_reply=False)
        return out


@dataclass
class CallbackQueryRecord:
    """A tap on a button and how the bot answered it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    update_id: int
    created_at: float
    answered_at: float | None = None
    text: str | None = None
    show_alert: bool = False
    url: str | None = None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass
class UpdateRecord:
    update_id: int
    payload: dict[str, Any]
    kind: str
    created_at: float
    delivered_at: float | None = None
    confirmed: bool = False


@dataclass
class SentRecord:
    t: float
    method: str
    chat_id: int
    messages: int


@dataclass
class ThrottledRecord:
    t: float
    method: str
    chat_id: int
    retry_after: int
    scope: str  # "global" or "chat"


@dataclass
class FloodLimits:
    """Telegram-like flood control. Token buckets: ``rate`` per second, ``burst`` capacity.

    Defaults follow the Bot FAQ: about 30 messages per second across chats (bulk sends,
    counted per request as PTB's ``AIORateLimiter`` counts them) and about one message per
    second per chat with a short burst (sends and edits). A 429 blocks the scope that hit
    the limit for the whole ``retry_after``, as Telegram does.

    ``grace`` is how early (in seconds) a request may arrive and still pass: a client that
    paces itself exactly at the limit sees requests land a few milliseconds apart from
    when it released them, and Telegram's limits are soft ("about 30").
    """

    enabled: bool = True
    grace: float = 0.25
    global_rate: float = 30.0
    global_burst: float = 30.0
    per_chat_rate: float = 1.0
    per_chat_burst: float = 6.0
    global_methods: frozenset[str] = SEND_METHODS
    per_chat_methods: frozenset[str] = SEND_METHODS | EDIT_METHODS


class _Bucket:
    __slots__ = ("blocked_until", "stamp", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.tokens = burst
        self.stamp = now
        self.blocked_until = 0.0

    def wait_time(self, now: float, rate: float, burst: float, grace: float) -> float:
        """Seconds until one token is available (0 if within ``grace``); refills first."""
        if now < self.blocked_until:
            return self.blocked_until - now
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        wait = (1.0 - self.tokens) / rate
        return 0.0 if wait <= grace else wait


class _Signal:
    """Wakes waiters so they re-check their condition after a change."""

    __slots__ = ("_events",)

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def fire(self) -> None:
        for event in self._events:
            event.set()

    async def wait_until(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            event = asyncio.Event()
            self._events.add(event)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._events.discard(event)


@dataclass
class FakeChat:
    id: int
    user: FakeUser
    chat_instance: str
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    bot_message_ids: list[int] = field(default_factory=list)
    next_message_id: int = 1
    blocked: bool = False
    actions: list[tuple[float, str]] = field(default_factory=list)
    menu_button: dict[str, Any] | None = None
    signal: _Signal = field(default_factory=_Signal)

    def api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.user.first_name}
        if self.user.last_name:
            out["last_name"] = self.user.last_name
        if self.user.username:
            out["username"] = self.user.username
        return out


class FakeUser:
    """A simulated Telegram user; their private chat with the bot has id == user id."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self._cursor = 0
        self.chat = FakeChat(user_id, self, chat_instance=str(secrets.randbits(63)))

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    def api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out

    # What the user sees -------------------------------------------------------------

    @property
    def messages(self) -> list[FakeMessage]:
        """The bot's messages in this chat that are not deleted, oldest first."""
        chat = self.chat
        return [
            chat.messages[mid] for mid in chat.bot_message_ids if not chat.messages[mid].deleted
        ]

    @property
    def last_message(self) -> FakeMessage | None:
        for mid in reversed(self.chat.bot_message_ids):
            message = self.chat.messages[mid]
            if not message.deleted:
                return message
        return None

    def message(self, message_id: int) -> FakeMessage:
        """Any message in this chat by id (including deleted ones and the user's own)."""
        try:
            return self.chat.messages[message_id]
        except KeyError:
            raise LookupError(f"no message {message_id} in chat {self.id}") from None

    def texts(self) -> list[str]:
        return [m.content for m in self.messages]

    # What the user does -------------------------------------------------------------

    async def send_text(self, text: str, reply_to: int | None = None) -> FakeMessage:
        """The user sends a text message (a leading ``/command`` gets its entity)."""
        entities: list[dict[str, Any]] = []
        match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if match:
            entities.append({"type": "bot_command", "offset": 0, "length": match.end()})
        return self.fake._user_message(self, text, entities, reply_to)

    async def send_command(
        self, command: str, arg: str | None = None, reply_to: int | None = None
    ) -> FakeMessage:
        """The user sends ``/command arg``."""
        if not command.startswith("/"):
            command = "/" + command
        text = command if not arg else f"{command} {arg}"
        return await self.send_text(text, reply_to=reply_to)

    async def tap(self, message_id: int, label_contains: str) -> str:
        """Tap the inline button whose label contains ``label_contains``; returns the query id."""
        message = self._bot_message(message_id)
        button = message.button(label_contains)
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise LookupError(f"button {button.get('text')!r} is not a callback button")
        return self.fake._callback_query(self, message, data)

    async def tap_data(self, message_id: int, data: str) -> str:
        """Send a callback query with arbitrary (possibly forged) data; returns the query id."""
        return self.fake._callback_query(self, self._bot_message(message_id), data)

    def block_bot(self) -> None:
        """From now on the bot gets 403 "bot was blocked by the user" for this chat."""
        self.chat.blocked = True

    def unblock_bot(self) -> None:
        self.chat.blocked = False

    # Waiting ------------------------------------------------------------------------

    async def next_message(self, timeout: float = 5.0) -> FakeMessage:
        """The next bot message in this chat not yet returned by ``next_message``."""
        chat = self.chat

        def check() -> FakeMessage | None:
            if self._cursor < len(chat.bot_message_ids):
                message = chat.messages[chat.bot_message_ids[self._cursor]]
                self._cursor += 1
                return message
            return None

        return await chat.signal.wait_until(check, timeout, f"a new message to user {self.id}")

    def skip_pending(self) -> None:
        """Mark every message so far as read for ``next_message``."""
        self._cursor = len(self.chat.bot_message_ids)

    async def wait_message(
        self, predicate: Callable[[FakeMessage], bool], timeout: float = 5.0
    ) -> FakeMessage:
        """The first current bot message (sent or edited at any time) matching ``predicate``."""

        def check() -> FakeMessage | None:
            for message in self.messages:
                if predicate(message):
                    return message
            return None

        return await self.chat.signal.wait_until(check, timeout, f"a matching message to {self.id}")

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy, re-checked on every change in this chat."""
        return await self.chat.signal.wait_until(predicate, timeout, f"a condition in {self.id}")

    def _bot_message(self, message_id: int) -> FakeMessage:
        message = self.chat.messages.get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise LookupError(f"no visible bot message {message_id} in chat {self.id}")
        return message


class FakeTelegram:
    """The fake Bot API server plus the simulation and inspection API used by tests."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "rltr_mktg_test_bot",
        bot_first_name: str = "Listing Assistant",
        flood: FloodLimits | None = None,
        latency: float = 0.0,
        callback_answer_timeout: float | None = None,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.flood = flood if flood is not None else FloodLimits()
        self.latency = latency
        # Telegram refuses late answers ("query is too old"); off unless a test sets it.
        self.callback_answer_timeout = callback_answer_timeout
        self.url = ""
        self.calls: list[Call] = []
        self.sent_log: list[SentRecord] = []
        self.throttled_log: list[ThrottledRecord] = []
        self.callbacks: dict[str, CallbackQueryRecord] = {}
        self.updates: dict[int, UpdateRecord] = {}
        self.commands: dict[tuple[str, int | None, int | None, str], list[dict[str, Any]]] = {}
        self.broken_urls: set[str] = set()
        self.menu_button: dict[str, Any] | None = None
        self.webhook_deleted = 0
        # Webhooks (setWebhook and delivery): tests/fakes/telegram_webhook.py.
        self.webhooks = WebhookSender(self)
        self._users: dict[int, FakeUser] = {}
        self._pending: collections.deque[UpdateRecord] = collections.deque()
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._media_group_ids = itertools.count(1)
        self._files: dict[str, Photo] = {}
        self._files_by_path: dict[str, Photo] = {}
        self._forced: dict[str, collections.deque[ApiError]] = {}
        self._global_bucket: _Bucket | None = None
        self._chat_buckets: dict[int, _Bucket] = {}
        self._updates_signal = _Signal()
        self._signal = _Signal()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, Upload]], Any]] = {
            name.lower(): getattr(self, f"_m_{name}")
            for name in (
                "getMe",
                "logOut",
                "close",
                "deleteWebhook",
                "setWebhook",
                "getWebhookInfo",
                "getUpdates",
                "sendMessage",
                "sendPhoto",
                "sendDocument",
                "sendMediaGroup",
                "editMessageText",
                "editMessageCaption",
                "editMessageReplyMarkup",
                "answerCallbackQuery",
                "deleteMessage",
                "setMyCommands",
                "getMyCommands",
                "deleteMyCommands",
                "sendChatAction",
                "setChatMenuButton",
                "getChatMenuButton",
                "getFile",
            )
        }
        self._canonical = {name.lower(): name[3:] for name in dir(self) if name.startswith("_m_")}

    # Lifecycle ----------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        self._updates_signal.fire()
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def application_builder(self) -> Any:
        """A PTB ``ApplicationBuilder`` already pointed at this fake."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    # Simulation API -----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """The simulated user ``user_id`` (created on first use; the bot may message them)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = FakeUser(self, user_id, first_name, last_name, username, language_code)
        self._users[user_id] = user
        return user

    @property
    def users(self) -> Mapping[int, FakeUser]:
        return self._users

    def chat(self, chat_id: int) -> FakeChat:
        return self._users[chat_id].chat

    def message(self, chat_id: int, message_id: int) -> FakeMessage:
        return self._users[chat_id].message(message_id)

    def block(self, user_id: int) -> None:
        self.user(user_id).block_bot()

    def fail_next(
        self,
        method: str,
        error_code: int = 500,
        description: str = "Internal Server Error",
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with this error, before any effect."""
        params = {"retry_after": retry_after} if retry_after is not None else None
        queue = self._forced.setdefault(method.lower(), collections.deque())
        for _ in range(times):
            queue.append(ApiError(error_code, description, params))

    def pending_updates(self) -> int:
        return len(self._pending)

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, what: str = "a condition"
    ) -> T:
        """Wait until ``predicate()`` is truthy; re-checked after every change the fake sees."""
        return await self._signal.wait_until(predicate, timeout, what)

    async def wait_answer(
        self, callback_query_id: str, timeout: float = 5.0
    ) -> CallbackQueryRecord:
        """Wait until the bot answers the callback query; returns its record."""
        record = self.callbacks[callback_query_id]
        chat = self.chat(record.chat_id)
        return await chat.signal.wait_until(
            lambda: record if record.answered else None,
            timeout,
            f"an answer to callback query {callback_query_id}",
        )

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Wait until every update created so far was fetched by getUpdates."""
        await self.wait_for(
            lambda: not self._pending or self._pending[-1].delivered_at is not None,
            timeout,
            "updates to be fetched",
        )

    def reset_stats(self) -> None:
        """Forget recorded calls, sends and 429s (e.g. after a bench's warm-up)."""
        self.calls.clear()
        self.sent_log.clear()
        self.throttled_log.clear()

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def commands_for(self, user_id: int, language_code: str = "") -> list[dict[str, Any]]:
        """The command menu a user sees in their private chat (Telegram's scope order)."""
        for key in (
            ("chat", user_id, None, language_code),
            ("chat", user_id, None, ""),
            ("all_private_chats", None, None, language_code),
            ("all_private_chats", None, None, ""),
            ("default", None, None, language_code),
            ("default", None, None, ""),
        ):
            if key in self.commands:
                return self.commands[key]
        return []

    @property
    def messages_sent(self) -> int:
        return sum(record.messages for record in self.sent_log)

    @property
    def throttled(self) -> int:
        return len(self.throttled_log)

    def send_stats(self) -> dict[str, Any]:
        """Counted sends and 429s, with the busiest one-second window (for benches)."""
        times = sorted(record.t for record in self.sent_log)
        busiest = 0
        left = 0
        for right, t in enumerate(times):
            while t - times[left] >= 1.0:
                left += 1
            busiest = max(busiest, right - left + 1)
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return {
            "requests": len(times),
            "messages": self.messages_sent,
            "throttled": self.throttled,
            "first_t": times[0] if times else None,
            "last_t": times[-1] if times else None,
            "requests_per_s": (len(times) - 1) / span if span > 0 else None,
            "max_requests_in_1s": busiest,
        }

    # Internals: user side ------------------------------------------------------------

    def _changed(self, chat: FakeChat | None) -> None:
        if chat is not None:
            chat.signal.fire()
        self._signal.fire()

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> UpdateRecord:
        update_id = next(self._update_ids)
        record = UpdateRecord(
            update_id, {"update_id": update_id, kind: payload}, kind, time.monotonic()
        )
        self.updates[update_id] = record
        self._pending.append(record)
        self._updates_signal.fire()
        return record

    def _new_message(self, chat: FakeChat, *, from_bot: bool, method: str) -> FakeMessage:
        message = FakeMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            from_bot=from_bot,
            date=int(time.time()),
            sent_at=time.monotonic(),
            method=method,
            from_user=self._bot_api_user() if from_bot else chat.user.api(),
            chat=chat.api(),
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if from_bot:
            chat.bot_message_ids.append(message.message_id)
        return message

    def _user_message(
        self,
        user: FakeUser,
        text: str,
        entities: list[dict[str, Any]],
        reply_to: int | None,
    ) -> FakeMessage:
        chat = user.chat
        if reply_to is not None and reply_to not in chat.messages:
            raise LookupError(f"no message {reply_to} to reply to in chat {chat.id}")
        chat.blocked = False  # writing to the bot means pressing "Restart"
        message = self._new_message(chat, from_bot=False, method="user")
        message.text = text
        message.entities = entities
        message.reply_to_message_id = reply_to
        self._enqueue("message", message.to_api(lookup=chat.messages.get))
        self._changed(chat)
        return message

    def _callback_query(self, user: FakeUser, message: FakeMessage, data: str) -> str:
        query_id = f"{self.bot_id}{next(self._callback_ids):012d}"
        payload = {
            "id": query_id,
            "from": user.api(),
            "message": message.to_api(lookup=user.chat.messages.get),
            "chat_instance": user.chat.chat_instance,
            "data": data,
        }
        record = self._enqueue("callback_query", payload)
        self.callbacks[query_id] = CallbackQueryRecord(
            id=query_id,
            user_id=user.id,
            chat_id=user.chat.id,
            message_id=message.message_id,
            data=data,
            update_id=record.update_id,
            created_at=record.created_at,
        )
        self._changed(user.chat)
        return query_id

    def _bot_api_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # Internals: HTTP ---------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        t = time.monotonic()
        token = request.match_info["token"]
        method_name = request.match_info["method"]
        if token != self.token:
            if re.fullmatch(r"[0-9]+:[A-Za-z0-9_-]+", token):
                return self._error_response(ApiError(401, "Unauthorized"))
            return self._error_response(ApiError(404, "Not Found"))
        key = method_name.lower()
        handler = self._handlers.get(key)
        canonical = self._canonical.get(key, method_name)
        call = Call(
            canonical, {}, t, content_type=request.content_type if request.body_exists else ""
        )
        self.calls.append(call)
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            params, uploads = await self._read_params(request)
            call.params = {**params, **uploads}
            forced = self._forced.get(key)
            if forced:
                raise forced.popleft()
            result = handler(params, uploads)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            call.status = exc.code
            call.description = exc.description
            return self._error_response(exc)
        if self.latency:
            await asyncio.sleep(self.latency)
        if isinstance(result, Described):
            return web.json_response(
                {"ok": True, "result": result.result, "description": result.description}
            )
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error_response(error: ApiError) -> web.Response:
        return web.json_response(error.body(), status=error.code)

    async def _handle_file(self, request: web.Request) -> web.Response:
        token = unquote(request.match_info["token"])
        photo = self._files_by_path.get(request.match_info["path"])
        if token != self.token or photo is None or photo.data is None:
            return self._error_response(ApiError(404, "Not Found"))
        return web.Response(body=photo.data, content_type="image/jpeg")

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        typed: set[str] = set()
        if request.method == "POST" and request.body_exists:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise _bad("can't parse JSON encoded request")
                raw.update(body)
                typed.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[name] = Upload(
                            name, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        raw[name] = value
        return {name: self._coerce(name, value, name in typed) for name, value in raw.items()}, (
            uploads
        )

    @staticmethod
    def _coerce(name: str, value: Any, typed: bool) -> Any:
        if name == "chat_id":
            if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
                return int(value)
            return value
        if name in _JSON_FIELDS:
            if isinstance(value, str):
                try:
                    return json.loads(value)
                except ValueError:
                    raise _bad(f"can't parse {_JSON_FIELDS[name]} JSON object") from None
            return value
        if typed:
            if name in ("text", "caption") and isinstance(value, int | float):
                return str(value)
            return value
        if name in _INT_FIELDS:
            try:
                return int(value)
            except (TypeError, ValueError):
                raise _bad(f"invalid {name} specified") from None
        if name in _BOOL_FIELDS:
            return str(value).lower() in ("true", "1")
        return value

    # Internals: validation helpers -----------------------------------------------

    def _chat_for_send(self, params: Mapping[str, Any]) -> FakeChat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise _bad("chat not found")
        if user.chat.blocked:
            raise ApiError(403, _ERR_BLOCKED)
        return user.chat

    def _message_to_edit(self, params: Mapping[str, Any]) -> tuple[FakeChat, FakeMessage]:
        if params.get("inline_message_id"):
            raise _bad("message to edit not found")
        chat = self._chat_for_send(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad("message to edit not found")
        if not message.from_bot:
            raise _bad("message can't be edited")
        return chat, message

    @staticmethod
    def _check_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only:
                raise _bad("can't parse inline keyboard markup JSON object")
            if not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
                raise _bad("can't parse reply keyboard markup JSON object")
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
        count = 0
        for row in rows:
            for button in row:
                count += 1
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad(
                        'can\'t parse inline keyboard button: Field "text" must be of type String'
                    )
                data = button.get("callback_data")
                url = button.get("url")
                actions = [
                    k
                    for k in (
                        "url",
                        "login_url",
                        "switch_inline_query",
                        "switch_inline_query_current_chat",
                        "switch_inline_query_chosen_chat",
                        "copy_text",
                        "web_app",
                        "callback_game",
                        "pay",
                    )
                    if button.get(k) is not None
                ]
                if data is not None and data != "":
                    if not isinstance(data, str) or not (
                        1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
                    ):
                        raise _bad("BUTTON_DATA_INVALID")
                    actions.append("callback_data")
                if not actions:
                    raise _bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if url is not None and _checked_link(str(url)) is None:
                    raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        if count > 100:
            raise _bad("REPLY_MARKUP_TOO_LONG")
        return markup if count else None

    def _reply_to(self, chat: FakeChat, params: Mapping[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        message_id: Any = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        target = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise _bad("message to be replied not found")
        return int(message_id)

    def _throttle(self, method: str, chat_id: int) -> None:
        """Raise 429 like Telegram if this send would break the flood limits."""
        limits = self.flood
        if not limits.enabled:
            return
        now = time.monotonic()
        use_global = method in limits.global_methods
        use_chat = method in limits.per_chat_methods
        waits: list[tuple[float, str, _Bucket]] = []
        if use_global:
            if self._global_bucket is None:
                self._global_bucket = _Bucket(limits.global_burst, now)
            bucket = self._global_bucket
            waits.append(
                (
                    bucket.wait_time(now, limits.global_rate, limits.global_burst, limits.grace),
                    "global",
                    bucket,
                )
            )
        if use_chat:
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = self._chat_buckets[chat_id] = _Bucket(limits.per_chat_burst, now)
            bucket = chat_bucket
            waits.append(
                (
                    bucket.wait_time(
                        now, limits.per_chat_rate, limits.per_chat_burst, limits.grace
                    ),
                    "chat",
                    bucket,
                )
            )
        worst = max(waits, default=None, key=lambda w: w[0])
        if worst is not None and worst[0] > 0:
            wait, scope, bucket = worst
            retry_after = max(1, math.ceil(wait))
            bucket.blocked_until = max(bucket.blocked_until, now + retry_after)
            self.throttled_log.append(ThrottledRecord(now, method, chat_id, retry_after, scope))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        for _, _, bucket in waits:
            bucket.tokens -= 1.0

    def _photo_from(self, value: Any, uploads: Mapping[str, Upload], field_name: str) -> Photo:
        if isinstance(value, Upload):
            return self._store_upload(value)
        if not isinstance(value, str) or not value:
            raise _bad(f'parameter "{field_name}" is required')
        if value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad("can't parse InputMedia: media not found")
            return self._store_upload(upload)
        if re.match(r"(?i)^https?://", value):
            if value in self.broken_urls:
                raise _bad("failed to get HTTP URL content")
            return self._register(Photo(self._file_id(), self._unique_id(), 1280, 960, url=value))
        known = self._files.get(value)
        if known is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        return known

    def _store_upload(self, upload: Upload) -> Photo:
        if not upload.data:
            raise _bad("file must be non-empty")
        if len(upload.data) > MAX_PHOTO_BYTES:
            raise _bad("file is too big")
        try:
            from PIL import Image

            with Image.open(io.BytesIO(upload.data)) as image:
                width, height = image.size
        except Exception:
            raise _bad("IMAGE_PROCESS_FAILED") from None
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise _bad("PHOTO_INVALID_DIMENSIONS")
        photo = Photo(
            self._file_id(),
            self._unique_id(),
            width,
            height,
            file_size=len(upload.data),
            data=upload.data,
        )
        return self._register(photo)

    def _register(self, photo: Photo) -> Photo:
        photo.file_path = f"photos/file_{len(self._files)}.jpg"
        self._files[photo.file_id] = photo
        self._files[photo.file_id + "_t"] = photo
        self._files_by_path[photo.file_path] = photo
        return photo

    def _file_id(self) -> str:
        return f"AgACAgIAAxk{next(self._file_ids):08d}{secrets.token_urlsafe(12)}"

    @staticmethod
    def _unique_id() -> str:
        return "AQAD" + secrets.token_urlsafe(9)

    def _record_send(self, method: str, chat: FakeChat, count: int) -> None:
        if method in SEND_METHODS:
            self.sent_log.append(SentRecord(time.monotonic(), method, chat.id, count))

    # Methods ------------------------------------------------------------------------

    def _m_getMe(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return {
            **self._bot_api_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_logOut(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return True

    def _m_close(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        self.webhook_deleted += 1
        return Described(*self.webhooks.delete_webhook(bool(params.get("drop_pending_updates"))))

    def _m_setWebhook(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return Described(*self.webhooks.set_webhook(params))

    def _m_getWebhookInfo(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return self.webhooks.info()

    def _drop_pending(self) -> None:
        while self._pending:
            self._pending.popleft().confirmed = True
        self._signal.fire()

    def _confirm_record(self, record: UpdateRecord) -> None:
        """A webhook delivered (or dropped) this update: it leaves the queue."""
        record.confirmed = True
        with contextlib.suppress(ValueError):
            self._pending.remove(record)
        self._signal.fire()

    def _end_long_polls(self) -> None:
        self._updates_signal.fire()

    async def _m_getUpdates(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        if self.webhooks.webhook is not None:
            raise ApiError(409, GET_UPDATES_CONFLICT)
        offset = params.get("offset") or 0
        limit = params.get("limit") or 100
        timeout = params.get("timeout") or 0
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            limit = 100
        allowed = params.get("allowed_updates")
        self._poll_generation += 1
        generation = self._poll_generation
        # The newest getUpdates wins; an older one still waiting gets 409, as on Telegram.
        self._updates_signal.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0, min(int(timeout), 50))
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            if self.webhooks.webhook is not None:
                raise ApiError(409, SET_WEBHOOK_CONFLICT)
            self._confirm(offset)
            batch = self._take(limit, allowed)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                now = time.monotonic()
                for record in batch:
                    if record.delivered_at is None:
                        record.delivered_at = now
                if batch:
                    self._signal.fire()
                return [record.payload for record in batch]
            event = asyncio.Event()
            self._updates_signal._events.add(event)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._updates_signal._events.discard(event)

    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset < 0:
            keep = -offset
            while len(pending) > keep:
                pending.popleft().confirmed = True
            return
        while pending and pending[0].update_id < offset:
            pending.popleft().confirmed = True

    def _take(self, limit: int, allowed: Iterable[str] | None) -> list[UpdateRecord]:
        allowed_set = set(allowed) if allowed else None
        batch: list[UpdateRecord] = []
        for record in self._pending:
            if allowed_set is not None and record.kind not in allowed_set:
                continue
            batch.append(record)
            if len(batch) >= limit:
                break
        return batch

    def _m_sendMessage(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(params)
        raw = params.get("text")
        if not isinstance(raw, str) or not raw:
            raise _bad("message text is empty")
        text, entities = format_text(raw, params.get("parse_mode"), params.get("entities"))
        if not text:
            raise _bad("message text is empty")
        if u16len(text) > MAX_TEXT:
            raise _bad("message is too long")
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        self._throttle("sendMessage", chat.id)
        message = self._new_message(chat, from_bot=True, method="sendMessage")
        message.text, message.entities = text, entities
        message.raw, message.parse_mode = raw, params.get("parse_mode")
        message.reply_markup = markup
        message.reply_to_message_id = reply_to
        self._record_send("sendMessage", chat, 1)
        self._changed(chat)
        return message.to_api(lookup=chat.messages.get)

    def _caption(self, params: Mapping[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        raw = params.get("caption")
        if raw is None or raw == "":
            return None, []
        caption, entities = format_text(
            str(raw), params.get("parse_mode"), params.get("caption_entities")
        )
        if u16len(caption) > MAX_CAPTION:
            raise _bad("message caption is too long")
        return (caption or None), entities

    def _m_sendPhoto(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(params)
        value = uploads.get("photo", params.get("photo"))
        caption, caption_entities = self._caption(params)
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        photo = self._photo_from(value, uploads, "photo")
        self._throttle("sendPhoto", chat.id)
        message = self._new_message(chat, from_bot=True, method="sendPhoto")
        message.photo = photo
        message.caption, message.caption_entities = caption, caption_entities
        message.raw, message.parse_mode = params.get("caption"), params.get("parse_mode")
        message.reply_markup = markup
        message.reply_to_message_id = reply_to
        self._record_send("sendPhoto", chat, 1)
        self._changed(chat)
        return message.to_api(lookup=chat.messages.get)

    def _m_sendDocument(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(params)
        upload = uploads.get("document")
        if upload is None:
            raise _bad('parameter "document" is required')
        if not upload.data:
            raise _bad("file must be non-empty")
        if len(upload.data) > MAX_DOCUMENT_BYTES:
            raise _bad("file is too big")
        caption, caption_entities = self._caption(params)
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        self._throttle("sendDocument", chat.id)
        message = self._new_message(chat, from_bot=True, method="sendDocument")
        message.document = Document(
            self._file_id(), upload.filename, upload.content_type or "", upload.data
        )
        message.caption, message.caption_entities = caption, caption_entities
        message.raw, message.parse_mode = params.get("caption"), params.get("parse_mode")
        message.reply_markup = markup
        message.reply_to_message_id = reply_to
        self._record_send("sendDocument", chat, 1)
        self._changed(chat)
        return message.to_api(lookup=chat.messages.get)

    def _m_sendMediaGroup(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(params)
        media = params.get("media")
        if media is None:
            raise _bad('parameter "media" is required')
        if not isinstance(media, list):
            raise _bad("can't parse media JSON object")
        if not media:
            raise _bad("there are no messages to send")
        if len(media) > 10:
            raise _bad("too many messages to send as an album")
        prepared: list[tuple[Photo, str | None, list[dict[str, Any]], Any, Any]] = []
        for index, item in enumerate(media, start=1):
            if not isinstance(item, dict):
                raise _bad("can't parse InputMedia JSON object")
            kind = item.get("type")
            if kind != "photo":
                raise _bad(f'can\'t parse InputMedia: type "{kind}" is not supported by the fake')
            caption, entities = self._caption(
                {
                    "caption": item.get("caption"),
                    "parse_mode": item.get("parse_mode"),
                    "caption_entities": item.get("caption_entities"),
                }
            )
            try:
                photo = self._photo_from(item.get("media"), uploads, "media")
            except ApiError as exc:
                if len(media) == 1:
                    raise
                detail = exc.description.removeprefix("Bad Request: ")
                raise _bad(
                    f'failed to send message #{index} with the error message "{detail[:1].upper()}'
                    f'{detail[1:]}"'
                ) from None
            prepared.append((photo, caption, entities, item.get("caption"), item.get("parse_mode")))
        reply_to = self._reply_to(chat, params)
        self._throttle("sendMediaGroup", chat.id)
        group_id = (
            str(13_000_000_000_000_000 + next(self._media_group_ids)) if len(media) > 1 else None
        )
        result = []
        for photo, caption, entities, raw, parse_mode in prepared:
            message = self._new_message(chat, from_bot=True, method="sendMediaGroup")
            message.photo = photo
            message.caption, message.caption_entities = caption, entities
            message.raw, message.parse_mode = raw, parse_mode
            message.media_group_id = group_id
            message.reply_to_message_id = reply_to
            result.append(message.to_api(lookup=chat.messages.get))
        self._record_send("sendMediaGroup", chat, len(prepared))
        self._changed(chat)
        return result

    def _finish_edit(
        self, chat: FakeChat, message: FakeMessage, method: str, markup: dict[str, Any] | None
    ) -> Any:
        message.reply_markup = markup
        message.edit_date = int(time.time())
        message.edits.append(Edit(time.monotonic(), method, message.text, message.caption, markup))
        self._changed(chat)
        return message.to_api(lookup=chat.messages.get)

    def _m_editMessageText(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat, message = self._message_to_edit(params)
        raw = params.get("text")
        if not isinstance(raw, str) or not raw:
            raise _bad("text must be non-empty")
        text, entities = format_text(raw, params.get("parse_mode"), params.get("entities"))
        if not text:
            raise _bad("text must be non-empty")
        if u16len(text) > MAX_TEXT:
            raise _bad("MESSAGE_TOO_LONG")
        if message.text is None:
            raise _bad("there is no text in the message to edit")
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise ApiError(400, _ERR_NOT_MODIFIED)
        self._throttle("editMessageText", chat.id)
        message.text, message.entities = text, entities
        message.raw, message.parse_mode = raw, params.get("parse_mode")
        return self._finish_edit(chat, message, "editMessageText", markup)

    def _m_editMessageCaption(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat, message = self._message_to_edit(params)
        if message.photo is None:
            raise _bad("there is no caption in the message to edit")
        caption, entities = self._caption(params)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        if (caption, entities, markup) == (
            message.caption,
            message.caption_entities,
            message.reply_markup,
        ):
            raise ApiError(400, _ERR_NOT_MODIFIED)
        self._throttle("editMessageCaption", chat.id)
        message.caption, message.caption_entities = caption, entities
        message.raw, message.parse_mode = params.get("caption"), params.get("parse_mode")
        return self._finish_edit(chat, message, "editMessageCaption", markup)

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat, message = self._message_to_edit(params)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        current = message.reply_markup if message.reply_markup else None
        if markup == current or (not markup and not current):
            raise ApiError(400, _ERR_NOT_MODIFIED)
        self._throttle("editMessageReplyMarkup", chat.id)
        return self._finish_edit(chat, message, "editMessageReplyMarkup", markup)

    def _m_answerCallbackQuery(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        record = self.callbacks.get(str(params.get("callback_query_id", "")))
        if record is None or record.answered:
            raise ApiError(400, _ERR_QUERY_TOO_OLD)
        timeout = self.callback_answer_timeout
        if timeout is not None and time.monotonic() - record.created_at > timeout:
            raise ApiError(400, _ERR_QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and u16len(str(text)) > MAX_CALLBACK_ANSWER:
            # The exact wording Telegram uses here is not documented; the limit is.
            raise _bad("MESSAGE_TOO_LONG")
        record.answered_at = time.monotonic()
        record.text = None if text is None else str(text)
        record.show_alert = bool(params.get("show_alert"))
        record.url = params.get("url")
        self._changed(self.chat(record.chat_id))
        return True

    def _m_deleteMessage(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(params)
        message_id = params.get("message_id")
        message = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if message is None or message.deleted:
            raise _bad("message to delete not found")
        message.deleted = True
        message.deleted_at = time.monotonic()
        self._changed(chat)
        return True

    @staticmethod
    def _scope_key(params: Mapping[str, Any]) -> tuple[str, int | None, int | None, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        ):
            raise _bad("can't parse BotCommandScope JSON object")
        kind = str(scope["type"])
        chat_id = scope.get("chat_id") if kind.startswith("chat") else None
        user_id = scope.get("user_id") if kind == "chat_member" else None
        if kind.startswith("chat") and chat_id is None:
            raise _bad("chat_id is empty")
        language = str(params.get("language_code") or "")
        return kind, chat_id, user_id, language

    def _m_setMyCommands(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad("too many commands specified")
        clean = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand JSON object")
            command = str(item.get("command", "")).removeprefix("/")
            description = str(item.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": command, "description": description})
        key = self._scope_key(params)
        if key[1] is not None and key[1] not in self._users:
            raise _bad("chat not found")
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        self._changed(None)
        return True

    def _m_getMyCommands(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return self.commands.get(self._scope_key(params), [])

    def _m_deleteMyCommands(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        self.commands.pop(self._scope_key(params), None)
        self._changed(None)
        return True

    def _m_sendChatAction(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        chat.actions.append((time.monotonic(), str(action)))
        return True

    def _m_setChatMenuButton(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        button = params.get("menu_button") or {"type": "default"}
        chat_id = params.get("chat_id")
        if chat_id is None:
            self.menu_button = button
        else:
            user = self._users.get(chat_id) if isinstance(chat_id, int) else None
            if user is None:
                raise _bad("chat not found")
            user.chat.menu_button = button
        return True

    def _m_getChatMenuButton(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat_id = params.get("chat_id")
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is not None and user.chat.menu_button is not None:
            return user.chat.menu_button
        return self.menu_button or {"type": "default"}

    def _m_getFile(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        photo = self._files.get(str(params.get("file_id", "")))
        if photo is None:
            raise _bad("invalid file_id")
        out: dict[str, Any] = {"file_id": photo.file_id, "file_unique_id": photo.file_unique_id}
        if photo.file_size is not None:
            out["file_size"] = photo.file_size
        if photo.data is not None:
            out["file_path"] = photo.file_path
        return out


__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "CallbackQueryRecord",
    "Edit",
    "FakeChat",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "FloodLimits",
    "Photo",
    "SentRecord",
    "ThrottledRecord",
    "UpdateRecord",
    "Upload",
    "format_text",
    "parse_html",
    "u16len",
]
