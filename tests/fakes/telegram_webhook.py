"""Webhooks for the fake Bot API (``specs/EXTERNAL_APIS.md`` section 6).

``setWebhook`` / ``deleteWebhook`` / ``getWebhookInfo`` with the server's answers and
errors; while a webhook is set, ``getUpdates`` answers 409 and every new update is POSTed
to the webhook URL (``Content-Type: application/json`` exactly, the secret header when one
is set). Any 2xx counts as delivered; anything else, or a failed connection, is retried
after a growing delay (a ``Retry-After`` header replaces it) until the update expires.
Updates of one chat go out one at a time, in order (callback queries are keyed by their
sender, in a key space of their own); different keys go out concurrently, up to
``max_connections``. As in the server's ``--local`` mode, any port and plain http work,
so tests can use ``http://127.0.0.1:<port>``.

Retry delays and expiries are attributes of `WebhookSender`, so tests can shrink them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram, UpdateRecord

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]*")
_MESSAGE_KINDS = frozenset({"message", "edited_message", "channel_post", "edited_channel_post"})
# allowed_updates=[] means "every type except these" (Bot API).
_OPT_IN_KINDS = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
GET_UPDATES_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
SET_WEBHOOK_CONFLICT = "Conflict: terminated by setWebhook request"


@dataclass
class WebhookDelivery:
    """One POST of an update to the webhook, as the fake saw its outcome."""

    update_id: int
    t: float
    status: int | None  # None when no HTTP answer came back
    error: str | None = None
    secret: str | None = None


@dataclass
class Webhook:
    """The webhook currently set."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int
    set_at: float
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class WebhookSender:
    """Holds the webhook settings and pushes pending updates to it."""

    fake: FakeTelegram
    retry_first_s: float = 0.0
    retry_base_s: float = 2.0
    retry_cap_s: float = 60.0
    callback_query_expiry_s: float = 150.0
    message_expiry_s: float = 24 * 3600.0
    request_timeout_s: float = 60.0
    webhook: Webhook | None = None
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    _last_set: float = -10.0
    _busy_keys: set[tuple[str, int]] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _loop_task: asyncio.Task[None] | None = None
    _session: aiohttp.ClientSession | None = None

    # Bot API methods ------------------------------------------------------------------

    def set_webhook(self, params: Mapping[str, Any]) -> tuple[bool, str]:
        """setWebhook: (result, description), or raises the server's ApiError."""
        from tests.fakes.telegram_api.api_errors import ApiError, bad_request

        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None:
            secret = str(secret)
            if len(secret) > 256:
                raise bad_request("secret token is too long")
            if not _SECRET.fullmatch(secret):
                raise bad_request("secret token contains unallowed characters")
        if not url:
            return self.delete_webhook(bool(params.get("drop_pending_updates")))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("invalid webhook URL specified")
        now = time.monotonic()
        if now - self._last_set < 1.0:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._last_set = now
        allowed = params.get("allowed_updates")
        if allowed is not None and not isinstance(allowed, list):
            raise bad_request("can't parse allowed updates JSON object")
        max_connections = params.get("max_connections")
        connections = min(max(int(max_connections), 1), 100) if max_connections else 40
        old = self.webhook
        if allowed is None and old is not None:
            allowed = old.allowed_updates  # omitted: the previous setting is kept
        if params.get("drop_pending_updates"):
            self.fake._drop_pending()
        same = (
            old is not None
            and old.url == url
            and old.secret_token == secret
            and old.allowed_updates == allowed
            and old.max_connections == connections
        )
        self.webhook = Webhook(url, secret, allowed, connections, now)
        # A long poll still waiting ends with 409, as on Telegram.
        self.fake._end_long_polls()
        self.fake._signal.fire()
        self._ensure_running()
        return True, "Webhook is already set" if same else "Webhook was set"

    def delete_webhook(self, drop_pending: bool) -> tuple[bool, str]:
        """deleteWebhook (or setWebhook with an empty URL)."""
        if drop_pending:
            self.fake._drop_pending()
        if self.webhook is None:
            return True, "Webhook is already deleted"
        self.webhook = None
        self.fake._signal.fire()
        return True, "Webhook was deleted"

    def info(self) -> dict[str, Any]:
        """getWebhookInfo's WebhookInfo."""
        hook = self.webhook
        out: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.fake.pending_updates(),
        }
        if hook is None:
            return out
        out["max_connections"] = hook.max_connections
        out["ip_address"] = urlsplit(hook.url).hostname or "<unknown>"
        if hook.allowed_updates is not None and hook.allowed_updates != []:
            out["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            out["last_error_date"] = hook.last_error_date
            out["last_error_message"] = hook.last_error_message
        return out

    # Delivery ---------------------------------------------------------------------------

    def allowed(self, kind: str) -> bool:
        """Whether the webhook's allowed_updates let this update type through."""
        hook = self.webhook
        if hook is None or hook.allowed_updates is None or hook.allowed_updates == []:
            return kind not in _OPT_IN_KINDS
        return kind in hook.allowed_updates

    async def close(self) -> None:
        """Stop delivering and close the HTTP session."""
        tasks = [t for t in (self._loop_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _ensure_running(self) -> None:
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.get_running_loop().create_task(self._dispatch())

    async def _dispatch(self) -> None:
        signal = self.fake._updates_signal
        while not self.fake._closing:
            hook = self.webhook
            if hook is not None:
                self._start_ready(hook)
            event = asyncio.Event()
            signal._events.add(event)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 1.0)
            finally:
                signal._events.discard(event)

    def _start_ready(self, hook: Webhook) -> None:
        """Start a POST for the head of every queue key that is not busy."""
        seen: set[tuple[str, int]] = set()
        for record in list(self.fake._pending):
            if len(self._tasks) >= hook.max_connections:
                return
            if not self.allowed(record.kind):
                self.fake._confirm_record(record)  # Telegram never queues these
                continue
            key = _queue_key(record)
            if key in seen or key in self._busy_keys:
                seen.add(key)
                continue
            seen.add(key)
            self._busy_keys.add(key)
            task = asyncio.get_running_loop().create_task(self._deliver(record, key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, record: UpdateRecord, key: tuple[str, int]) -> None:
        attempt = 0
        try:
            while self.webhook is not None and not self.fake._closing:
                hook = self.webhook
                status, error, retry_after = await self._post(hook, record)
                if status is not None and 200 <= status < 300:
                    record.delivered_at = time.monotonic()
                    self.fake._confirm_record(record)
                    return
                hook.last_error_date = int(time.time())
                hook.last_error_message = error
                delay = self._delay(attempt, retry_after)
                attempt += 1
                if time.monotonic() + delay > record.created_at + self._expiry(record):
                    self.fake._confirm_record(record)  # dropped: it would arrive too late
                    return
                await asyncio.sleep(delay)
        finally:
            self._busy_keys.discard(key)
            self.fake._updates_signal.fire()

    async def _post(
        self, hook: Webhook, record: UpdateRecord
    ) -> tuple[int | None, str | None, float | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.request_timeout_s)
            )
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        body = json.dumps(record.payload, ensure_ascii=False).encode()
        t = time.monotonic()
        try:
            async with self._session.post(hook.url, data=body, headers=headers) as resp:
                await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After", "")
        except TimeoutError:
            self._record(
                WebhookDelivery(
                    record.update_id, t, None, "Read timeout expired", hook.secret_token
                )
            )
            return None, "Read timeout expired", None
        except aiohttp.ClientConnectorError as exc:
            message = f"Connection refused ({exc.os_error.strerror or exc})"
            self._record(WebhookDelivery(record.update_id, t, None, message, hook.secret_token))
            return None, message, None
        except aiohttp.ClientError:
            message = "Webhook connection closed"
            self._record(WebhookDelivery(record.update_id, t, None, message, hook.secret_token))
            return None, message, None
        self._record(WebhookDelivery(record.update_id, t, status, None, hook.secret_token))
        if 200 <= status < 300:
            return status, None, None
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        hint = float(retry_after) if retry_after.isdigit() else None
        return status, f"Wrong response from the webhook: {status} {reason}", hint

    def _record(self, delivery: WebhookDelivery) -> None:
        self.deliveries.append(delivery)
        self.fake._signal.fire()

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, 3600.0)
        if attempt == 0:
            return self.retry_first_s
        return min(self.retry_base_s * 2 ** (attempt - 1), self.retry_cap_s)

    def _expiry(self, record: UpdateRecord) -> float:
        if record.kind == "callback_query":
            return self.callback_query_expiry_s
        if record.kind == "inline_query":
            return 30.0
        return self.message_expiry_s


def _queue_key(record: UpdateRecord) -> tuple[str, int]:
    body = record.payload.get(record.kind)
    if isinstance(body, dict):
        if record.kind in _MESSAGE_KINDS and isinstance(body.get("chat"), dict):
            return ("chat", int(body["chat"]["id"]))
        sender = body.get("from")
        if record.kind == "callback_query" and isinstance(sender, dict):
            return ("callback_query", int(sender["id"]))
    return ("update", record.update_id)
