"""A fake Telegram Bot API server that the real python-telegram-bot talks to (server.py), split
into HTML parsing, records, flood control, users, and the Bot API methods grouped by kind."""

from tests.fakes.telegram_api.api_errors import ApiError, Described, bad_request
from tests.fakes.telegram_api.api_limits import DEFAULT_TOKEN, EDIT_METHODS, SEND_METHODS
from tests.fakes.telegram_api.flood import FloodLimits
from tests.fakes.telegram_api.html_entities import HtmlParseError, format_text, parse_html, u16len
from tests.fakes.telegram_api.records import (
    Call,
    CallbackQueryRecord,
    Document,
    Edit,
    FakeMessage,
    Photo,
    SentRecord,
    ThrottledRecord,
    UpdateRecord,
    Upload,
)
from tests.fakes.telegram_api.server import FakeTelegram
from tests.fakes.telegram_api.users import FakeChat, FakeUser

__all__ = [
    "DEFAULT_TOKEN",
    "EDIT_METHODS",
    "SEND_METHODS",
    "ApiError",
    "Call",
    "CallbackQueryRecord",
    "Described",
    "Document",
    "Edit",
    "FakeChat",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "FloodLimits",
    "HtmlParseError",
    "Photo",
    "SentRecord",
    "ThrottledRecord",
    "UpdateRecord",
    "Upload",
    "bad_request",
    "format_text",
    "parse_html",
    "u16len",
]
