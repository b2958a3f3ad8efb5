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
import itertools
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.fakes.telegram_api.api_errors import ApiError, Described
from tests.fakes.telegram_api.api_limits import DEFAULT_TOKEN
from tests.fakes.telegram_api.files import FileStore
from tests.fakes.telegram_api.flood import Bucket, FloodControl, FloodLimits
from tests.fakes.telegram_api.http_params import RequestParams
from tests.fakes.telegram_api.methods_bot_setup import BotSetupMethods
from tests.fakes.telegram_api.methods_editing import EditingMethods
from tests.fakes.telegram_api.methods_sending import SendingMethods
from tests.fakes.telegram_api.methods_updates import UpdateMethods
from tests.fakes.telegram_api.records import (
    Call,
    CallbackQueryRecord,
    FakeMessage,
    Photo,
    SentRecord,
    ThrottledRecord,
    UpdateRecord,
    Upload,
)
from tests.fakes.telegram_api.users import FakeChat, FakeUser
from tests.fakes.telegram_api.waiting import Signal, T
from tests.fakes.telegram_webhook import WebhookSender


class FakeTelegram(
    BotSetupMethods,
    EditingMethods,
    FileStore,
    FloodControl,
    RequestParams,
    SendingMethods,
    UpdateMethods,
):
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
        self._global_bucket: Bucket | None = None
        self._chat_buckets: dict[int, Bucket] = {}
        self._updates_signal = Signal()
        self._signal = Signal()
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
