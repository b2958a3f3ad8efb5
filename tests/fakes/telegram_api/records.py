"""What the fake records for tests to inspect: calls, messages, edits, photos, documents,
callback queries, updates, sends and throttled requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
