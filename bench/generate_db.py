"""Drafts through the real bot: revision turnaround and new homes → drafts on the phone.

The real PTB Application talks to the fake Telegram Bot API (tests/fakes/telegram_api/)
and, for the OpenAI run, the real `openai` client to the fake OpenAI server with a fixed
latency. Revision turnaround is measured the way an agent feels it: from the moment their
feedback message reaches Telegram to the moment the new version's message is in the chat.
The writer's own time is measured around each `write` call, so the overhead (everything
that is not the writer: polling, database, delivery) is reported separately.

    .venv/bin/python bench/generate_db.py [--revisions 30] [--homes 100]
        [--openai-latency 0.3] [--database-url postgresql+asyncpg://…]   # prints one JSON

Without --database-url a temporary SQLite file is used. A PostgreSQL database given here
gets the migrations applied and its rltr_mktg tables emptied first: use a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_application, start_application, stop_application
from bot.app_type import App
from bot.runtime import RUNTIME_KEY, Runtime
from db import migrate
from db.models import AgentListing
from db.session import create_engine, create_sessionmaker
from services.context import Database
from services.crypto import TokenCipher, generate_key
from services.drafting.listing_drafts import DraftMaker
from services.generation.writer import Writer, WriteRequest, WriteResult
from services.settings import load_settings
from tests.conftest import truncate_all
from tests.factories import make_agent, make_listing
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram, FakeUser, FloodLimits

FEEDBACK = [
    "shorter, no emojis",
    "mention the clubhouse",
    "more emojis please",
    "drop the hashtags",
    "longer, and mention the open floor plan",
]
_tg_ids = itertools.count(500_000)


class TimedWriter:
    """Wraps the bot's writer and records how long each `write` took."""

    def __init__(self, inner: Writer) -> None:
        self.inner = inner
        self.calls: list[tuple[float, float]] = []

    async def write(self, req: WriteRequest) -> WriteResult:
        started = time.monotonic()
        try:
            return await self.inner.write(req)
        finally:
            self.calls.append((started, time.monotonic()))

    def busy_between(self, start: float, end: float) -> float:
        return sum(b - a for a, b in self.calls if a >= start and b <= end)


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": round(p95 * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


@asynccontextmanager
async def running_bot(
    database: Database, data_dir: Path, **settings: Any
) -> AsyncIterator[tuple[FakeTelegram, App, DraftMaker, TimedWriter]]:
    async with FakeTelegram(flood=FloodLimits(enabled=False)) as fake:
        app = build_application(
            load_settings(
                telegram_bot_token=fake.token,
                telegram_api_base_url=fake.base_url,
                data_dir=data_dir,
                default_timezone="UTC",
                _env_file=None,
                **settings,
            ),
            database=database,
            with_jobs=False,
        )
        await start_application(app)
        try:
            rt = app.bot_data[RUNTIME_KEY]
            assert isinstance(rt, Runtime)
            maker = rt.draft_maker
            assert isinstance(maker, DraftMaker)
            timed = TimedWriter(maker.writer)
            maker.writer = timed
            yield fake, app, maker, timed
        finally:
            await stop_application(app)


async def _homes(database: Database, n: int) -> tuple[int, list[Any]]:
    tg = next(_tg_ids)
    async with database.unit_of_work() as s:
        agent = await make_agent(s, telegram_user_id=tg)
        homes = [await make_listing(s) for _ in range(n)]
        for home in homes:
            s.add(AgentListing(agent_id=agent.id, listing_id=home.id))
    return tg, [h.id for h in homes]


async def _revise_all(
    fake: FakeTelegram, user: FakeUser, timed: TimedWriter, count: int
) -> dict[str, Any]:
    drafts = [m for m in user.messages if m.buttons][:count]
    turnaround: list[float] = []
    overhead: list[float] = []
    writer: list[float] = []
    for i, draft in enumerate(drafts):
        await fake.wait_answer(await user.tap(draft.message_id, "Revise"))
        prompt = await user.wait_message(
            lambda m, after=draft.message_id: m.force_reply and m.message_id > after
        )
        sent = await user.send_text(FEEDBACK[i % len(FEEDBACK)], reply_to=prompt.message_id)
        v2 = await user.wait_message(
            lambda m, after=sent.message_id: (
                m.message_id > after and "· v2" in m.content and bool(m.buttons)
            ),
            timeout=30,
        )
        total = v2.sent_at - sent.sent_at
        spent = timed.busy_between(sent.sent_at, v2.sent_at)
        turnaround.append(total)
        writer.append(spent)
        overhead.append(total - spent)
    return {
        "revisions": len(turnaround),
        "turnaround_ms": _ms(turnaround),
        "writer_ms": _ms(writer),
        "overhead_ms": _ms(overhead),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="rltr-bench-drafts-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await migrate.upgrade(url)
    engine = create_engine(url)
    await truncate_all(engine)
    database = Database(engine, create_sessionmaker(engine), TokenCipher([generate_key()]))
    out: dict[str, Any] = {"backend": engine.dialect.name}
    try:
        async with running_bot(database, tmp) as (fake, _app, maker, timed):
            tg, homes = await _homes(database, args.homes)
            user = fake.user(tg)
            started = time.monotonic()
            made = await maker.new_listings(homes)  # writes and pushes every draft
            elapsed = time.monotonic() - started
            await user.wait_for(lambda: len([m for m in user.messages if m.buttons]) >= args.homes)
            out["new_homes_to_phone"] = {
                "homes": args.homes,
                "drafts": len(made.created),
                "seconds": round(elapsed, 3),
                "drafts_per_s": round(len(made.created) / elapsed, 1),
                "writer_ms": _ms([b - a for a, b in timed.calls]),
            }
            out["revision_builtin"] = await _revise_all(fake, user, timed, args.revisions)

        async with (
            FakeOpenAI(latency_s=args.openai_latency) as openai_fake,
            running_bot(
                database,
                tmp,
                openai_api_key="sk-bench",
                openai_base_url=openai_fake.base_url,
                openai_model="gpt-4o-mini",
            ) as (fake, _app, maker, timed),
        ):
            count = max(1, args.revisions // 3)
            tg, homes = await _homes(database, count)
            user = fake.user(tg)
            await maker.new_listings(homes)
            await user.wait_for(lambda: len([m for m in user.messages if m.buttons]) >= count)
            result = await _revise_all(fake, user, timed, count)
            result["openai_latency_ms"] = args.openai_latency * 1000
            tokens = [r.usage_total for r in openai_fake.requests]  # type: ignore[attr-defined]
            result["tokens_per_request"] = round(statistics.mean(tokens)) if tokens else 0
            out["revision_openai_fake"] = result
    finally:
        await truncate_all(engine)
        await engine.dispose()
    out["target"] = "overhead p95 < 250 ms; built-in turnaround < 2 s (PRODUCT §7)"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=30)
    parser.add_argument("--homes", type=int, default=100)
    parser.add_argument("--openai-latency", type=float, default=0.3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    args.homes = max(args.homes, args.revisions)
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
