"""Two processes approving one agent's drafts at the same moment get distinct slots.

Webhook mode behind a round-robin proxy hands one agent's taps to two processes; the
in-process turn cannot see across them; the write's compare-and-set on the agent's
`slot_plan_version` does (the loser reads again). Each process
is a real Python subprocess (tests/services/slot_approver.py) on the bot's tap path.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.models import PostSchedule
from services.context import Database
from tests.factories import make_account, make_agent, make_piece

ROOT = Path(__file__).resolve().parents[2]
PIECES_PER_PROCESS = 3


async def _approve_in_two_processes(
    database: Database, url: str, *, no_turn: bool
) -> tuple[list[Any], list[PostSchedule]]:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        await make_account(s, agent, "facebook")
        pieces = [await make_piece(s, agent) for _ in range(2 * PIECES_PER_PROCESS)]
    uid = agent.telegram_user_id
    assert uid is not None
    start = time.time() + 2.0  # both interpreters are up by then
    procs = []
    for half in (pieces[:PIECES_PER_PROCESS], pieces[PIECES_PER_PROCESS:]):
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.services.slot_approver",
                url,
                str(uid),
                str(start),
                *(str(p.id) for p in half),
                *(["--no-turn"] if no_turn else []),
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=asyncio.subprocess.PIPE,
            )
        )
    outs = await asyncio.gather(*(p.communicate() for p in procs))
    assert all(p.returncode == 0 for p in procs)
    results = [r for out, _ in outs for r in json.loads(out)]
    async with database.unit_of_work() as s:
        rows = list((await s.execute(select(PostSchedule))).scalars().all())
    return results, rows


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_processes_approving_one_agent_at_once_get_distinct_slots(
    database: Database, migrated_url: str
) -> None:
    results, rows = await _approve_in_two_processes(database, migrated_url, no_turn=False)
    assert len(results) == 6 and all(r["ok"] for r in results)
    assert len(rows) == 6
    assert len({r.scheduled_at for r in rows}) == 6, sorted(r.scheduled_at for r in rows)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_without_the_turn_across_processes_slots_collide(
    database: Database, migrated_url: str
) -> None:
    """The control: with only the in-process turn, the same setup plans one slot twice,
    so the test above would catch the slot guard going missing."""
    results, rows = await _approve_in_two_processes(database, migrated_url, no_turn=True)
    assert len(results) == 6 and all(r["ok"] for r in results)
    assert len({r.scheduled_at for r in rows}) < 6
