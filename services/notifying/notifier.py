"""What the services need from the messenger, without knowing it is Telegram.

The bot implements `Notifier`; services and jobs only see these plain data classes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class RecipientUnreachable(Exception):
    """The agent blocked the bot or deleted the chat; stop sending until they return."""


class DeliveryFailed(Exception):
    """A message could not be sent now (network, the messenger's 5xx or flood limit); it
    stays queued and is tried again later, not before `retry_after_s` when given."""

    def __init__(self, message: str = "", *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DeliveryRefused(Exception):
    """The messenger refused the message itself (e.g. Telegram's 400 "chat not found" or a
    parse error): sending it again cannot succeed, so it is not retried."""


# Called after each part of a draft but the last, with how many parts are on the phone.
PartSent = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class ListingSummary:
    """The listing facts shown beside a draft."""

    address: str
    city: str
    state: str
    zip_code: str
    price: Decimal | None
    beds: int | None
    baths: Decimal | None
    sqft: int | None
    garage: int | None
    community: str | None
    plan_name: str | None
    status: str | None
    source_url: str | None


@dataclass(frozen=True)
class FlyerAttachment:
    """A flyer-text draft's printable flyer: the PDF (sent as a document) and its preview."""

    pdf: bytes
    preview_png: bytes
    filename: str


@dataclass(frozen=True)
class DraftView:
    """One version of a draft as the agent will see it."""

    piece_id: uuid.UUID
    version: int
    chat_id: int
    content_type: str
    purpose: str
    status: str
    generated_text: dict[str, Any]
    listing: ListingSummary
    image_urls: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    feedback: str | None = None
    writer_note: str | None = None
    # The message that showed the previous version, to be marked superseded.
    previous_message_id: int | None = None
    # When the draft row last changed: tells two reads of the same state apart from a
    # later change of the same version (e.g. a rewrite that gave up).
    updated_at: datetime | None = None
    # Parts of this version already on the phone (photos, then each text part) from an
    # earlier attempt: sending resumes after them.
    parts_done: int = 0
    # A flyer-text draft's printable flyer, sent before its text (instead of the photos).
    flyer: FlyerAttachment | None = None
    # How long the draft has waited for the agent ("26 hours"), shown by /drafts.
    waiting: str | None = None


@dataclass(frozen=True)
class NotificationView:
    """A notification to send as a plain message."""

    notification_id: uuid.UUID
    chat_id: int
    notification_type: str
    message: str
    related_entity_id: uuid.UUID | None = None
    # When the notification is about a draft: its version (for a Retry button).
    piece_version: int | None = None


class Notifier(Protocol):
    """Sends drafts and notifications to an agent's phone."""

    async def send_draft(self, draft: DraftView, on_part: PartSent | None = None) -> int:
        """Send a draft from part `draft.parts_done` on; returns the id of the message
        holding its buttons. Raises RecipientUnreachable, DeliveryRefused or DeliveryFailed."""
        ...

    async def mark_superseded(self, chat_id: int, message_id: int, new_version: int) -> None:
        """Turn an older draft message into a note that a newer version exists."""
        ...

    async def send_notification(self, note: NotificationView) -> None:
        """Send one notification (raises as `send_draft` does)."""
        ...

    async def alert_admins(self, text: str) -> None:
        """Tell the administrators, in plain text, about something they may need to act on."""
        ...

    async def send_reminder(self, chat_id: int, reply_to_message_id: int, text: str) -> None:
        """Send plain `text` as a reply to a draft's message (raises as `send_draft` does)."""
        ...

    async def send_photo(self, chat_id: int, png: bytes, caption: str) -> None:
        """Send a picture with a plain-text caption, e.g. the weekly digest's chart."""
        ...
