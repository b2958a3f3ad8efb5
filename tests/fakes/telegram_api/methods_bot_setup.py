"""Bot setup methods: commands per scope, chat actions and the chat menu button."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from tests.fakes.telegram_api.api_errors import bad_request
from tests.fakes.telegram_api.api_limits import CHAT_ACTIONS
from tests.fakes.telegram_api.records import Upload


class BotSetupMethods:
    """Commands per scope, chat actions and the menu button.

    Mixed into ``FakeTelegram``, whose state it uses.
    """

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
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = str(scope["type"])
        chat_id = scope.get("chat_id") if kind.startswith("chat") else None
        user_id = scope.get("user_id") if kind == "chat_member" else None
        if kind.startswith("chat") and chat_id is None:
            raise bad_request("chat_id is empty")
        language = str(params.get("language_code") or "")
        return kind, chat_id, user_id, language

    def _m_setMyCommands(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        clean = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand JSON object")
            command = str(item.get("command", "")).removeprefix("/")
            description = str(item.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": command, "description": description})
        key = self._scope_key(params)
        if key[1] is not None and key[1] not in self._users:
            raise bad_request("chat not found")
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
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
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
                raise bad_request("chat not found")
            user.chat.menu_button = button
        return True

    def _m_getChatMenuButton(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat_id = params.get("chat_id")
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is not None and user.chat.menu_button is not None:
            return user.chat.menu_button
        return self.menu_button or {"type": "default"}
