"""How a Bot API request's parameters are read and typed: query, urlencoded form, JSON or
multipart; text-sent fields are typed by their declared Telegram type."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from tests.fakes.telegram_api.api_errors import bad_request
from tests.fakes.telegram_api.records import Upload

# How parameters sent as text (query / form / multipart) are typed. PTB sends every
# non-string value through json.dumps; Telegram types each field by its declared type.
INT_FIELDS = frozenset(
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


BOOL_FIELDS = frozenset(
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


JSON_FIELDS = {
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


class RequestParams:
    """Reading and typing a request's parameters (query, form, JSON or multipart) as Telegram does.

    Mixed into ``FakeTelegram``, whose state it uses.
    """

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
                    raise bad_request("can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise bad_request("can't parse JSON encoded request")
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
        if name in JSON_FIELDS:
            if isinstance(value, str):
                try:
                    return json.loads(value)
                except ValueError:
                    raise bad_request(f"can't parse {JSON_FIELDS[name]} JSON object") from None
            return value
        if typed:
            if name in ("text", "caption") and isinstance(value, int | float):
                return str(value)
            return value
        if name in INT_FIELDS:
            try:
                return int(value)
            except (TypeError, ValueError):
                raise bad_request(f"invalid {name} specified") from None
        if name in BOOL_FIELDS:
            return str(value).lower() in ("true", "1")
        return value
