"""The ``editMessage*`` methods, ``answerCallbackQuery`` and ``deleteMessage``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tests.fakes.telegram_api.api_errors import (
    ERR_NOT_MODIFIED,
    ERR_QUERY_TOO_OLD,
    ApiError,
    bad_request,
)
from tests.fakes.telegram_api.api_limits import MAX_CALLBACK_ANSWER, MAX_TEXT
from tests.fakes.telegram_api.html_entities import format_text, u16len
from tests.fakes.telegram_api.records import Edit, FakeMessage, Upload
from tests.fakes.telegram_api.users import FakeChat


class EditingMethods:
    """The ``editMessage*`` methods, ``answerCallbackQuery`` and ``deleteMessage``.

    Mixed into ``FakeTelegram``, whose state it uses.
    """

    def _message_to_edit(self, params: Mapping[str, Any]) -> tuple[FakeChat, FakeMessage]:
        if params.get("inline_message_id"):
            raise bad_request("message to edit not found")
        chat = self._chat_for_send(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

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
            raise bad_request("text must be non-empty")
        text, entities = format_text(raw, params.get("parse_mode"), params.get("entities"))
        if not text:
            raise bad_request("text must be non-empty")
        if u16len(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise ApiError(400, ERR_NOT_MODIFIED)
        self._throttle("editMessageText", chat.id)
        message.text, message.entities = text, entities
        message.raw, message.parse_mode = raw, params.get("parse_mode")
        return self._finish_edit(chat, message, "editMessageText", markup)

    def _m_editMessageCaption(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat, message = self._message_to_edit(params)
        if message.photo is None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(params)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        if (caption, entities, markup) == (
            message.caption,
            message.caption_entities,
            message.reply_markup,
        ):
            raise ApiError(400, ERR_NOT_MODIFIED)
        self._throttle("editMessageCaption", chat.id)
        message.caption, message.caption_entities = caption, entities
        message.raw, message.parse_mode = params.get("caption"), params.get("parse_mode")
        return self._finish_edit(chat, message, "editMessageCaption", markup)

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat, message = self._message_to_edit(params)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        current = message.reply_markup if message.reply_markup else None
        if markup == current or (not markup and not current):
            raise ApiError(400, ERR_NOT_MODIFIED)
        self._throttle("editMessageReplyMarkup", chat.id)
        return self._finish_edit(chat, message, "editMessageReplyMarkup", markup)

    def _m_answerCallbackQuery(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        record = self.callbacks.get(str(params.get("callback_query_id", "")))
        if record is None or record.answered:
            raise ApiError(400, ERR_QUERY_TOO_OLD)
        timeout = self.callback_answer_timeout
        if timeout is not None and time.monotonic() - record.created_at > timeout:
            raise ApiError(400, ERR_QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and u16len(str(text)) > MAX_CALLBACK_ANSWER:
            # The exact wording Telegram uses here is not documented; the limit is.
            raise bad_request("MESSAGE_TOO_LONG")
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
            raise bad_request("message to delete not found")
        message.deleted = True
        message.deleted_at = time.monotonic()
        self._changed(chat)
        return True
