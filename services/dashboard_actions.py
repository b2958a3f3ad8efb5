"""The dashboard's buttons: the same transitions as the Telegram buttons, by agent id.

A click runs the very service function a tap runs (`services.approval`), on the same kind
of connection (`Database.tap()`), so the compare-and-set, the audit row and the posts are
the same and the phone and the desk never disagree. Who acts: a user linked to an agent
acts as that agent (the guard in the statement refuses another agent's draft); an admin
acts as the draft's own agent. Afterwards the agent's Telegram message of that draft is
redrawn with its new state and buttons (`DraftSync`, given by the process wiring), so an
old Approve button on the phone is not left looking usable.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

from db.driver import Executor
from db.repositories import dashboard_drafts as drafts_repo
from services import approval
from services.approval import TapResult
from services.context import Database
from services.dashboard_auth import Viewer, remember_outcome
from services.errors import ACCOUNT_DEACTIVATED

log = logging.getLogger(__name__)

GONE = "This draft no longer exists."
AGENT_DEACTIVATED = "This draft's agent is deactivated, so nothing can be done with it."


class DraftSync(Protocol):
    """Shows a draft's new state where the agent sees it (the Telegram message)."""

    async def draft_changed(self, result: TapResult) -> None:
        """The draft `result.piece_id` changed as `result` says."""
        ...


Transition = Callable[[Executor, uuid.UUID, int, uuid.UUID, str], Awaitable[TapResult]]


async def _approve(c: Executor, piece: uuid.UUID, v: int, agent: uuid.UUID, tz: str) -> TapResult:
    return await approval.approve(c, piece_id=piece, version=v, agent_id=agent, default_timezone=tz)


async def _reject(c: Executor, piece: uuid.UUID, v: int, agent: uuid.UUID, tz: str) -> TapResult:
    return await approval.reject(c, piece_id=piece, version=v, agent_id=agent)


async def _post_now(c: Executor, piece: uuid.UUID, v: int, agent: uuid.UUID, tz: str) -> TapResult:
    return await approval.post_now(c, piece_id=piece, version=v, agent_id=agent)


async def _cancel(c: Executor, piece: uuid.UUID, v: int, agent: uuid.UUID, tz: str) -> TapResult:
    return await approval.cancel(c, piece_id=piece, version=v, agent_id=agent)


async def _retry(c: Executor, piece: uuid.UUID, v: int, agent: uuid.UUID, tz: str) -> TapResult:
    return await approval.retry(c, piece_id=piece, version=v, agent_id=agent, default_timezone=tz)


ACTIONS: dict[str, Transition] = {
    "approve": _approve,
    "reject": _reject,
    "post-now": _post_now,
    "cancel": _cancel,
    "retry": _retry,
}


async def act(
    database: Database,
    viewer: Viewer,
    *,
    action: str,
    piece_id: uuid.UUID,
    version: int,
    default_timezone: str,
    sync: DraftSync | None = None,
) -> TapResult:
    """Run one dashboard button; the outcome is also kept for the viewer's next page."""
    transition = ACTIONS[action]
    agent_id = viewer.agent_id
    if viewer.is_admin:
        async with database.unit_of_work() as session:
            agent_id = await drafts_repo.piece_owner(session, piece_id)
    if agent_id is None:
        result = TapResult(False, GONE, piece_id)
    else:
        async with database.tap() as conn:
            result = await transition(conn, piece_id, version, agent_id, default_timezone)
    answer = result.answer
    if viewer.is_admin and answer == ACCOUNT_DEACTIVATED:
        answer = AGENT_DEACTIVATED
    async with database.unit_of_work() as session:
        await remember_outcome(session, viewer, answer)
    log.info(
        "dashboard action",
        extra={
            "action": action,
            "piece_id": str(piece_id),
            "user_id": str(viewer.user_id),
            "ok": result.ok,
        },
    )
    if result.ok and sync is not None:
        try:
            await sync.draft_changed(result)
        except Exception:
            # The decision is made and saved; a message that could not be redrawn is no
            # reason to tell the person otherwise.
            log.warning("could not show the change in Telegram", exc_info=True)
    return result
