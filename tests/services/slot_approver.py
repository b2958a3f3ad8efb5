"""A separate process that approves drafts of one agent, for the cross-process slot test.

    python -m tests.services.slot_approver URL UID START PIECE_ID... [--no-turn]

Waits until the unix time START (so that two such processes tap together), approves each
piece on the bot's tap connection, and prints the JSON list of results. The slot read is
followed by a pause, widening the window in which another process could plan the same
slot; `--no-turn` drops the write's slot guard (Guard.SLOTS_AS_READ), to show the test
catches it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
import uuid
from datetime import datetime
from typing import Any

from db.repositories import approval as repo
from db.repositories.transitions import Guard
from db.session import create_engine, create_sessionmaker
from services import approval
from services import status_machine as machine
from services.context import Database
from services.crypto import TokenCipher, generate_key

PAUSE_AFTER_READ_S = 0.2


async def _main(url: str, uid: int, start: float, pieces: list[str], no_turn: bool) -> None:
    read = repo.schedule_context

    async def slow_read(*args: Any, **kwargs: Any) -> Any:
        ctx = await read(*args, **kwargs)
        await asyncio.sleep(PAUSE_AFTER_READ_S)
        return ctx

    repo.schedule_context = slow_read  # type: ignore[assignment]
    if no_turn:
        unguarded = dataclasses.replace(
            machine.APPROVE, guards=machine.APPROVE.guards - {Guard.SLOTS_AS_READ}
        )
        machine.approve_transition = lambda _sign_off: unguarded  # type: ignore[assignment]
    engine = create_engine(url)
    database = Database(engine, create_sessionmaker(engine), TokenCipher([generate_key()]))
    now = datetime.fromisoformat("2026-12-07T15:00:00+00:00")

    async def tap(piece: str) -> dict[str, Any]:
        async with database.tap() as conn:
            result = await approval.approve(
                conn,
                piece_id=uuid.UUID(piece),
                version=1,
                telegram_user_id=uid,
                default_timezone="America/New_York",
                now=now,
            )
        return {"piece": piece, "ok": result.ok}

    await asyncio.sleep(max(0.0, start - time.time()))
    try:
        results = await asyncio.gather(*(tap(p) for p in pieces))
    finally:
        await engine.dispose()
    print(json.dumps(results))


if __name__ == "__main__":
    argv = [a for a in sys.argv[1:] if a != "--no-turn"]
    asyncio.run(_main(argv[0], int(argv[1]), float(argv[2]), argv[3:], "--no-turn" in sys.argv))
