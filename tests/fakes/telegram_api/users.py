"""Simulated Telegram users and their private chats with the bot: they send commands, text,
photos and taps, and read what the bot sent them."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.telegram_api.records import FakeMessage
from tests.fakes.telegram_api.waiting import Signal, T

if TYPE_CHECKING:
    from tests.fakes.telegram_api.server import FakeTelegram


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
    signal: Signal = field(default_factory=Signal)

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
