"""Telegram's limits the fake enforces: text and caption lengths, callback data, file sizes,
and the methods that count as sends and edits."""

from __future__ import annotations

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"


MAX_TEXT = 4096


MAX_CAPTION = 1024


MAX_CALLBACK_DATA = 64


MAX_CALLBACK_ANSWER = 200


MAX_PHOTO_BYTES = 10 * 1024 * 1024


SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument"})


MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})


CHAT_ACTIONS = frozenset(
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
