"""Several processes (PRODUCT.md §7 "several processes"): one `rltr-mktg run` against two,
each behind the same round-robin proxy, in webhook mode on one PostgreSQL.

Run from the repository root (prints one JSON object)::

    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/rltr_bench \\
        .venv/bin/python bench/scale.py [--agents 150] [--rate 100]

Per setup (1 process, then 2), on a fresh schema of BENCH_DATABASE_URL (DROPPED and
recreated): real `rltr-mktg run` subprocesses (tests/several_processes/kit.py) behind
tests/fakes/http_round_robin.py, the fake Telegram delivering webhooks with its flood limits
at Telegram's defaults, and `agents` agents with a Facebook account and two drafts each,
written to the database once the processes run.

- fan-out: the processes' delivery jobs send the 2 × `agents` drafts; counted are the
  fake's send requests per second over the whole fan-out, the busiest one-second window
  (Telegram allows ~30), its 429s, and which process sent how many (their logs);
- taps: each agent taps Approve on its first draft, offered at `rate` taps/s (latency =
  tap created in the fake → the bot's answerCallbackQuery, webhook and proxy included),
  then on its second draft all at once (throughput = taps / time to the last answer);
- duplicates: draft messages beyond one per draft, approvals beyond one per tap, schedule
  rows beyond one per approved draft.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench._harness import (
    BenchError,
    emit,
    fresh_database_url,
    latency_summary,
    machine,
    open_database,
    postgres_url,
    quiet_logging,
)
from db.models import ApprovalLog, ContentPiece, PostSchedule
from services.context import Database
from tests.factories import make_account, make_agent, make_listing, make_piece
from tests.fakes.telegram_api import FakeMessage, FakeUser, FloodLimits
from tests.several_processes.kit import Cluster, cluster, markup_labels

FIRST_TG_ID = 700_000
SEND_METHODS = ("sendMessage", "sendPhoto", "sendMediaGroup")


async def _seed(database: Database, agents: int) -> None:
    async with database.unit_of_work() as s:
        homes = [await make_listing(s), await make_listing(s)]
        for i in range(agents):
            agent = await make_agent(s, telegram_user_id=FIRST_TG_ID + i)
            await make_account(s, agent, "facebook", display_name=f"Page {i}")
            for home in homes:  # two homes: each draft message has its own text
                await make_piece(s, agent, home)


async def _delivered(database: Database) -> int:
    async with database.unit_of_work() as s:
        return int(
            (
                await s.execute(
                    select(func.count())
                    .select_from(ContentPiece)
                    .where(ContentPiece.telegram_message_id.is_not(None))
                )
            ).scalar_one()
        )


async def _all_delivered(database: Database, count: int) -> None:
    async with asyncio.timeout(600):
        while True:
            if await _delivered(database) >= count:
                return
            await asyncio.sleep(0.25)


def _drafts(user: FakeUser) -> list[FakeMessage]:
    return [m for m in user.messages if any("Approve" in b for b in m.button_labels)]


async def _taps(
    c: Cluster, targets: list[tuple[FakeUser, int]], rate: float | None
) -> dict[str, Any]:
    """Approve each (user, draft message), paced at `rate` taps/s (None: all at once)."""
    start = time.monotonic()
    ids = []
    for n, (user, message_id) in enumerate(targets):
        if rate is not None:
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        ids.append(await user.tap(message_id, "Approve"))
    records = [await c.telegram.wait_answer(q, timeout=120) for q in ids]
    created = min(r.created_at for r in records)
    done = max(r.answered_at or 0.0 for r in records)
    return {
        "taps": len(records),
        "offered_per_s": rate,
        "taps_per_s": round(len(records) / (done - created), 1) if done > created else None,
        "latency_ms": latency_summary((r.answered_at or 0.0) - r.created_at for r in records),
        "answered_ok": sum(1 for r in records if r.text and "Approved" in r.text),
    }


def _sent_by_process(c: Cluster) -> dict[str, int]:
    out = {}
    for r in c.replicas:
        sent = sum(int(n) for n in re.findall(r"delivery round drafts_sent=(\d+)", r.log()))
        out[str(r.port)] = sent
    return out


async def _setup(
    url_pg: str, replicas: int, agents: int, rate: float, work: Path
) -> dict[str, Any]:
    url = await fresh_database_url("postgresql", url_pg, work)
    async with cluster(
        url, work / f"x{replicas}", replicas=replicas, flood=FloodLimits(), site_homes=False
    ) as c:
        users = [c.telegram.user(FIRST_TG_ID + i) for i in range(agents)]
        async with open_database(url, pool_size=4) as database:
            c.telegram.reset_stats()
            await _seed(database, agents)
            started = time.monotonic()
            await _all_delivered(database, 2 * agents)
            fanout_s = time.monotonic() - started
            stats = c.telegram.send_stats()
            rate_s = float(stats["requests_per_s"] or 0.0)
            fanout = {
                "drafts": 2 * agents,
                "seconds": round(fanout_s, 1),
                "messages_per_s": round(rate_s, 1),
                "share_of_30_per_s": round(rate_s / 30, 3),
                "busiest_second": stats["max_requests_in_1s"],
                "throttled_429": stats["throttled"],
            }
            await asyncio.sleep(1.0)  # the last round's edits and logs settle
            drafts = {u.id: [m.message_id for m in _drafts(u)] for u in users}
            odd = {uid: len(ids) for uid, ids in drafts.items() if len(ids) != 2}
            if odd:
                sample = next(iter(odd))
                texts = [m.content[:60] for m in c.telegram.user(sample).messages]
                raise BenchError(
                    f"{len(odd)} agents did not get exactly two drafts ({sample}: {texts})"
                )
            paced = await _taps(c, [(u, drafts[u.id][0]) for u in users], rate)
            burst = await _taps(c, [(u, drafts[u.id][1]) for u in users], None)
            await asyncio.sleep(6.0)  # every job runs again: anything sent twice shows now
            # Read late: a round logs what it sent when it ends.
            fanout["drafts_sent_by_process"] = _sent_by_process(c)
            draft_sends = Counter(
                (str(call.params.get("chat_id")), str(call.params.get("text")))
                for call in c.telegram.calls
                if call.method == "sendMessage"
                and call.status == 200
                and any("Approve" in label for label in markup_labels(call))
            )
            async with database.unit_of_work() as s:
                logs = Counter(
                    (await s.execute(select(ApprovalLog.content_piece_id))).scalars().all()
                )
                schedule = Counter(
                    (await s.execute(select(PostSchedule.content_piece_id))).scalars().all()
                )
            duplicates = {
                "draft_messages": sum(n - 1 for n in draft_sends.values() if n > 1),
                "draft_messages_total": sum(draft_sends.values()),
                "approvals": sum(n - 1 for n in logs.values() if n > 1),
                "schedule_rows": sum(n - 1 for n in schedule.values() if n > 1),
            }
        return {
            "processes": replicas,
            "fanout": fanout,
            "taps_paced": paced,
            "taps_burst": burst,
            "duplicates": duplicates,
        }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    pg = postgres_url(args.database_url)
    if not pg:
        raise BenchError(
            "No PostgreSQL URL: set BENCH_DATABASE_URL to a throw-away database "
            "(psql -c 'create database rltr_bench') or pass --database-url."
        )
    quiet_logging()
    with tempfile.TemporaryDirectory() as tmp:
        one = await _setup(pg, 1, args.agents, args.rate, Path(tmp))
        two = await _setup(pg, 2, args.agents, args.rate, Path(tmp))
    base = one["taps_burst"]["taps_per_s"] or 0.0
    return {
        "bench": "scale",
        "machine": machine(),
        "agents": args.agents,
        "one_process": one,
        "two_processes": two,
        "two_vs_one_taps_per_s": round(two["taps_burst"]["taps_per_s"] / base, 2) if base else None,
        "duplicates_total": sum(
            v for r in (one, two) for k, v in r["duplicates"].items() if k != "draft_messages_total"
        ),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=150)
    parser.add_argument("--rate", type=float, default=100.0, help="offered taps/s, paced phase")
    parser.add_argument("--database-url", default=None)
    try:
        emit(asyncio.run(main(parser.parse_args())))
    except BenchError as exc:
        print(f"bench/scale.py: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
