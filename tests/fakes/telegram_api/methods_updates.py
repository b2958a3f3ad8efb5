"""``getMe``, ``logOut``, ``close``, the webhook methods and ``getUpdates`` long polling."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from typing import Any

from tests.fakes.telegram_api.api_errors import ApiError, Described
from tests.fakes.telegram_api.records import UpdateRecord, Upload
from tests.fakes.telegram_webhook import GET_UPDATES_CONFLICT, SET_WEBHOOK_CONFLICT


class UpdateMethods:
    """``getMe``, ``logOut``, ``close``, the webhook methods and ``getUpdates`` long polling.

    Mixed into ``FakeTelegram``, whose state it uses.
    """

    def _m_getMe(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return {
            **self._bot_api_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_logOut(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return True

    def _m_close(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        self.webhook_deleted += 1
        return Described(*self.webhooks.delete_webhook(bool(params.get("drop_pending_updates"))))

    def _m_setWebhook(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return Described(*self.webhooks.set_webhook(params))

    def _m_getWebhookInfo(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return self.webhooks.info()

    def _drop_pending(self) -> None:
        while self._pending:
            self._pending.popleft().confirmed = True
        self._signal.fire()

    def _confirm_record(self, record: UpdateRecord) -> None:
        """A webhook delivered (or dropped) this update: it leaves the queue."""
        record.confirmed = True
        with contextlib.suppress(ValueError):
            self._pending.remove(record)
        self._signal.fire()

    def _end_long_polls(self) -> None:
        self._updates_signal.fire()

    async def _m_getUpdates(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        if self.webhooks.webhook is not None:
            raise ApiError(409, GET_UPDATES_CONFLICT)
        offset = params.get("offset") or 0
        limit = params.get("limit") or 100
        timeout = params.get("timeout") or 0
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            limit = 100
        allowed = params.get("allowed_updates")
        self._poll_generation += 1
        generation = self._poll_generation
        # The newest getUpdates wins; an older one still waiting gets 409, as on Telegram.
        self._updates_signal.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0, min(int(timeout), 50))
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            if self.webhooks.webhook is not None:
                raise ApiError(409, SET_WEBHOOK_CONFLICT)
            self._confirm(offset)
            batch = self._take(limit, allowed)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                now = time.monotonic()
                for record in batch:
                    if record.delivered_at is None:
                        record.delivered_at = now
                if batch:
                    self._signal.fire()
                return [record.payload for record in batch]
            event = asyncio.Event()
            self._updates_signal._events.add(event)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._updates_signal._events.discard(event)

    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset < 0:
            keep = -offset
            while len(pending) > keep:
                pending.popleft().confirmed = True
            return
        while pending and pending[0].update_id < offset:
            pending.popleft().confirmed = True

    def _take(self, limit: int, allowed: Iterable[str] | None) -> list[UpdateRecord]:
        allowed_set = set(allowed) if allowed else None
        batch: list[UpdateRecord] = []
        for record in self._pending:
            if allowed_set is not None and record.kind not in allowed_set:
                continue
            batch.append(record)
            if len(batch) >= limit:
                break
        return batch
