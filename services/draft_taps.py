"""A draft button's tap and the feedback after Revise, as the Telegram side asks for them.

Each tap is one transition of services.approval on the tap connection (`Database.tap()`,
a single statement on PostgreSQL); the names are the buttons' (`Action.name.lower()` in
bot/callback_data.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Final

from db.driver import Executor
from db.repositories import content as content_repo
from services import approval
from services.approval import FeedbackAccepted, TapResult
from services.context import Database

_Step = Callable[[Executor, uuid.UUID, int, int, str], Awaitable[TapResult]]


async def _approve(c: Executor, piece: uuid.UUID, v: int, uid: int, tz: str) -> TapResult:
    return await approval.approve(
        c, piece_id=piece, version=v, telegram_user_id=uid, default_timezone=tz
    )


async def _marketing(c: Executor, piece: uuid.UUID, v: int, uid: int, tz: str) -> TapResult:
    return await approval.record_marketing_approval(
        c, piece_id=piece, version=v, telegram_user_id=uid, default_timezone=tz
    )


async def _reject(c: Executor, piece: uuid.UUID, v: int, uid: int, tz: str) -> TapResult:
    return await approval.reject(c, piece_id=piece, version=v, telegram_user_id=uid)


async def _revise(c: Executor, piece: uuid.UUID, v: int, uid: int, tz: str) -> TapResult:
    return await approval.start_revision(c, piece_id=piece, version=v, telegram_user_id=uid)


async def _post_now(c: Executor, piece: uuid.UUID, v: int, uid: int, tz: str) -> TapResult:
    return await approval.post_now(c, piece_id=piece, version=v, telegram_user_id=uid)


async def _cancel(c: Executor, piece: uuid.UUID, v: int, uid: int, tz: str) -> TapResult:
    return await approval.cancel(c, piece_id=piece, version=v, telegram_user_id=uid)


async def _retry(c: Executor, piece: uuid.UUID, v: int, uid: int, tz: str) -> TapResult:
    return await approval.retry(
        c, piece_id=piece, version=v, telegram_user_id=uid, default_timezone=tz
    )


_STEPS: Final[dict[str, _Step]] = {
    "approve": _approve,
    "marketing_approved": _marketing,
    "reject": _reject,
    "revise": _revise,
    "post_now": _post_now,
    "cancel": _cancel,
    "retry": _retry,
}
TAP_NAMES: Final = frozenset(_STEPS)


async def tap(
    database: Database,
    name: str,
    *,
    piece_id: uuid.UUID,
    version: int,
    telegram_user_id: int,
    default_timezone: str,
) -> TapResult:
    """The tap `name` (one of `TAP_NAMES`) on the draft `piece_id` shown at `version`.

    Raises `KeyError` for another name, and `DatabaseUnavailableError` when the database
    does not answer within the tap's deadline.
    """
    step = _STEPS[name]
    async with database.tap() as conn:
        return await step(conn, piece_id, version, telegram_user_id, default_timezone)


async def feedback_from_message(
    database: Database,
    *,
    telegram_user_id: int,
    text: str,
    chat_id: int,
    replied_message_id: int | None,
) -> FeedbackAccepted | None:
    """A message from an agent as feedback: for the draft it replies to, else for the
    draft they last tapped Revise on. None when it is feedback for no draft."""
    piece_id: uuid.UUID | None = None
    version: int | None = None
    async with database.unit_of_work() as session:
        if replied_message_id is not None:
            found = await content_repo.find_by_message(session, chat_id, replied_message_id)
            if found is not None:
                piece_id, version = found
        return await approval.submit_feedback(
            await session.connection(),
            telegram_user_id=telegram_user_id,
            text=text,
            piece_id=piece_id,
            version=version,
        )
