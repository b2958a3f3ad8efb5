"""Claims as leases: who holds a post (`host:pid:nonce`), the heartbeat that renews it,
and how to tell that a holder is gone.

A claim lapses LEASE after its last renewal; the holder renews every HEARTBEAT_S while it
publishes. A `sent` post whose lease lapsed, or whose holder is a dead process on this
host, is an orphan (see orphan_settling).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime

from db.repositories import publish_claims
from services.context import Database
from services.publishing.write_turns import writing

log = logging.getLogger(__name__)

# A claim lapses LEASE after its last renewal; the holder renews every HEARTBEAT_S, so a
# live holder misses three renewals in a row before anyone may take its post.
LEASE = publish_claims.DEFAULT_LEASE
HEARTBEAT_S = 5.0

_HOST = socket.gethostname()[:60]
# Holder ids this process has published under: a holder naming this process's pid but
# absent here belongs to an earlier process that had the same pid.
_OWN_HOLDERS: set[str] = set()


def default_worker_id() -> str:
    """Who claims rows: host, process and a random suffix (shown in `claimed_by`)."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def hold_as(worker: str) -> None:
    """Remember that this process publishes as `worker` (so it is not taken for gone)."""
    _OWN_HOLDERS.add(worker)


def holder_is_gone(holder: str | None) -> bool:
    """Whether `holder` is certainly a dead process on this host (`host:pid:nonce`).

    Holders on other hosts, or not of that shape, count as alive: only their lease lapsing
    tells they are gone.
    """
    if not holder:
        return False
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _HOST or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return holder not in _OWN_HOLDERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


class Leases:
    """The posts this round holds, renewed every HEARTBEAT_S while they are in flight."""

    def __init__(self, database: Database, worker: str, clock: Callable[[], datetime]) -> None:
        self.ids: set[uuid.UUID] = set()
        self._database = database
        self._worker = worker
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the heartbeat."""
        self._task = asyncio.create_task(self._beat(), name="publish-lease-heartbeat")

    async def stop(self) -> None:
        """Stop the heartbeat (the leases lapse on their own)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if not self.ids:
                continue
            try:
                async with writing(self._database) as session:
                    await publish_claims.renew_leases(
                        session, list(self.ids), worker_id=self._worker, until=self._clock() + LEASE
                    )
            except Exception:
                # A missed renewal is survivable: the lease outlasts two more.
                log.warning("lease renewal failed", exc_info=True)
