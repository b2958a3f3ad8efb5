"""``sendMessage``, ``sendPhoto``, ``sendDocument`` and ``sendMediaGroup``, checked the way
Telegram checks them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tests.fakes.telegram_api.api_errors import ERR_BLOCKED, ApiError, bad_request
from tests.fakes.telegram_api.api_limits import (
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_DOCUMENT_BYTES,
    MAX_TEXT,
    SEND_METHODS,
)
from tests.fakes.telegram_api.html_entities import checked_link, format_text, u16len
from tests.fakes.telegram_api.records import Document, Photo, SentRecord, Upload
from tests.fakes.telegram_api.users import FakeChat


class SendingMethods:
    """``sendMessage``, ``sendPhoto``, ``sendDocument``, ``sendMediaGroup`` and their checks.

    Mixed into ``FakeTelegram``, whose state it uses.
    """

    def _chat_for_send(self, params: Mapping[str, Any]) -> FakeChat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise bad_request("chat not found")
        if user.chat.blocked:
            raise ApiError(403, ERR_BLOCKED)
        return user.chat

    @staticmethod
    def _check_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only:
                raise bad_request("can't parse inline keyboard markup JSON object")
            if not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
                raise bad_request("can't parse reply keyboard markup JSON object")
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
            )
        count = 0
        for row in rows:
            for button in row:
                count += 1
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request(
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
                        raise bad_request("BUTTON_DATA_INVALID")
                    actions.append("callback_data")
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if url is not None and checked_link(str(url)) is None:
                    raise bad_request(
                        f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                    )
        if count > 100:
            raise bad_request("REPLY_MARKUP_TOO_LONG")
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
            raise bad_request("message to be replied not found")
        return int(message_id)

    def _record_send(self, method: str, chat: FakeChat, count: int) -> None:
        if method in SEND_METHODS:
            self.sent_log.append(SentRecord(time.monotonic(), method, chat.id, count))

    def _m_sendMessage(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(params)
        raw = params.get("text")
        if not isinstance(raw, str) or not raw:
            raise bad_request("message text is empty")
        text, entities = format_text(raw, params.get("parse_mode"), params.get("entities"))
        if not text:
            raise bad_request("message text is empty")
        if u16len(text) > MAX_TEXT:
            raise bad_request("message is too long")
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
            raise bad_request("message caption is too long")
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
            raise bad_request('parameter "document" is required')
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > MAX_DOCUMENT_BYTES:
            raise bad_request("file is too big")
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
            raise bad_request('parameter "media" is required')
        if not isinstance(media, list):
            raise bad_request("can't parse media JSON object")
        if not media:
            raise bad_request("there are no messages to send")
        if len(media) > 10:
            raise bad_request("too many messages to send as an album")
        prepared: list[tuple[Photo, str | None, list[dict[str, Any]], Any, Any]] = []
        for index, item in enumerate(media, start=1):
            if not isinstance(item, dict):
                raise bad_request("can't parse InputMedia JSON object")
            kind = item.get("type")
            if kind != "photo":
                raise bad_request(
                    f'can\'t parse InputMedia: type "{kind}" is not supported by the fake'
                )
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
                raise bad_request(
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
