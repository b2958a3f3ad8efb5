"""Draft fan-out: one new home for many agents, pushed through the real bot's rate limiter.

Run from the repository root (prints one JSON object)::

    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/rltr_bench \\
        .venv/bin/python bench/fanout.py [--agents 300] [--photos 1] [--backend both]

Per backend (PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL, whose public schema
is DROPPED and recreated; and SQLite in a temporary folder): one listing, `agents`
agents, and one draft per agent in `pending_approval_agent` (tests/factories.py). The
real PTB Application (bot/app.py, with its rate limiter) runs against
tests/fakes/telegram_api.FakeTelegram with its flood limiter at Telegram's defaults
(about 30 messages/s across chats, about 1/s per chat with a short burst).
`services.notifying.delivery.deliver_drafts` then sends every draft through the bot's notifier:
the photo (sendPhoto, or sendMediaGroup for several) and the draft with its buttons
(sendMessage). Counted: every sendMessage/sendPhoto/sendMediaGroup request the fake
received, the 429s it answered, the rate over the whole delivery and after the first
second, and the most requests the fake received within any one second (a sliding
window over its timestamps): Telegram counts per second, so no second may hold more
than 30, the first one included.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._harness import (
    BenchError,
    backends,
    bot_runtime,
    emit,
    fresh_database_url,
    machine,
    open_database,
    postgres_url,
    quiet_logging,
    running_bot,
)
from services.context import Database
from services.notifying import delivery
from tests.factories import make_agent, make_listing, make_piece
from tests.fakes.telegram_api import SEND_METHODS, FakeTelegram, FloodLimits

FIRST_USER_ID = 800_000
TELEGRAM_GLOBAL_RATE = 30.0
TARGETS = {"share_of_30_per_s": 0.9, "throttled": 0, "max_requests_in_1s": 30}


@dataclass(frozen=True)
class Options:
    """One bench configuration."""

    agents: int = 300
    photos: int = 1
    concurrency: int | None = None  # None: the delivery service's default


async def seed(database: Database, opts: Options) -> list[int]:
    """One listing, and a draft of it for each agent; returns the agents' Telegram ids."""
    users = []
    async with database.unit_of_work() as s:
        listing = await make_listing(
            s,
            image_urls=[
                f"https://holidaybuilders.com/wp-content/uploads/bench-{n}.jpg"
                for n in range(opts.photos)
            ],
        )
        for i in range(opts.agents):
            uid = FIRST_USER_ID + i
            agent = await make_agent(s, telegram_user_id=uid, name=f"Fanout Agent {i}")
            await make_piece(s, agent, listing)
            users.append(uid)
    return users


def rates(times: list[float], started: float, finished: float) -> dict[str, Any]:
    """Requests per second over the delivery, and after its first second."""
    n = len(times)
    wall = finished - started
    late = [t for t in times if t >= started + 1.0]
    late_span = (late[-1] - (started + 1.0)) if late else 0.0
    return {
        "requests": n,
        "seconds": round(wall, 3),
        "requests_per_s": round(n / wall, 2) if wall > 0 else None,
        "after_first_second_per_s": round(len(late) / late_span, 2) if late_span > 0 else None,
    }


def busiest_second(times: list[float]) -> int:
    """The most requests inside any one-second window."""
    best, left = 0, 0
    for right, t in enumerate(times):
        while t - times[left] >= 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


async def run_backend(backend: str, pg_url: str | None, opts: Options) -> dict[str, Any]:
    """Seed, deliver through the bot, read what the fake saw; one JSON section."""
    with tempfile.TemporaryDirectory(prefix="rltr-bench-fanout-") as tmp:
        workdir = Path(tmp)
        url = await fresh_database_url(backend, pg_url, workdir)
        async with open_database(url) as database:
            users = await seed(database, opts)
            async with FakeTelegram(flood=FloodLimits()) as fake:
                for uid in users:
                    fake.user(uid, first_name="Agent")
                async with running_bot(fake.base_url, fake.token, database, workdir) as app:
                    notifier = bot_runtime(app).notifier
                    kwargs: dict[str, Any] = {"default_timezone": "UTC"}
                    if opts.concurrency is not None:
                        kwargs["concurrency"] = opts.concurrency
                    calls_before = len(fake.calls)
                    started = time.monotonic()
                    stats = await delivery.deliver_drafts(database, notifier, **kwargs)
                    finished = time.monotonic()
                calls = fake.calls[calls_before:]
                sends = [c for c in calls if c.method in SEND_METHODS]
                ok_times = sorted(c.t for c in sends if c.status == 200)
                per_chat = Counter(r.chat_id for r in fake.sent_log)
                with_buttons = sum(
                    1 for uid in users if any(m.buttons for m in fake.user(uid).messages)
                )
                result = {
                    "agents": opts.agents,
                    "photos_per_draft": opts.photos,
                    "delivery": {
                        "sent": stats.sent,
                        "failed": stats.failed,
                        "deferred": stats.deferred,
                        "skipped": stats.skipped,
                    },
                    "send_requests_by_method": dict(Counter(c.method for c in sends)),
                    "send_requests_by_status": dict(Counter(str(c.status) for c in sends)),
                    "throttled_429": fake.throttled,
                    "messages_in_chats": fake.messages_sent,
                    **rates(ok_times, started, finished),
                    "max_requests_in_1s": busiest_second(ok_times),
                    "drafts_with_buttons": with_buttons,
                    "chats_with_extra_sends": sum(
                        1 for n in per_chat.values() if n != (2 if opts.photos else 1)
                    ),
                }
    per_s = result["requests_per_s"] or 0.0
    result["share_of_30_per_s"] = round(per_s / TELEGRAM_GLOBAL_RATE, 3)
    result["targets_met"] = {
        "at_least_90pct_of_30_per_s": per_s >= TARGETS["share_of_30_per_s"] * 30,
        "zero_429s": result["throttled_429"] == 0,
        "no_second_above_30": result["max_requests_in_1s"] <= TARGETS["max_requests_in_1s"],
    }
    return result


async def run(
    opts: Options, *, backend: str = "both", database_url: str | None = None
) -> dict[str, Any]:
    """The whole bench: one section per backend."""
    pg_url = postgres_url(database_url)
    result: dict[str, Any] = {
        "bench": "fanout",
        "machine": machine(),
        "options": opts.__dict__,
        "targets": TARGETS,
    }
    for name in backends(backend, pg_url):
        result[name] = await run_backend(name, pg_url, opts)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line entry: parse options, run, print JSON."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    p.add_argument("--agents", type=int, default=Options.agents)
    p.add_argument("--photos", type=int, default=Options.photos, help="photos per draft")
    p.add_argument("--concurrency", type=int, default=None, help="agents served at once")
    p.add_argument("--backend", choices=("both", "postgresql", "sqlite"), default="both")
    p.add_argument("--database-url", default=None, help="PostgreSQL URL (throw-away database)")
    args = p.parse_args(argv)
    quiet_logging()
    opts = Options(agents=args.agents, photos=args.photos, concurrency=args.concurrency)
    try:
        emit(asyncio.run(run(opts, backend=args.backend, database_url=args.database_url)))
    except BenchError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
