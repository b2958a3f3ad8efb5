"""Memory of the bot process with a full database: resident set size against 150 MB.

PRODUCT §7: the bot process stays under 150 MB RSS with 10,000 listings and 50,000 drafts.
Run from the repository root (prints one JSON object)::

    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/rltr_bench \\
        .venv/bin/python bench/memory.py [--listings 10000] [--drafts 50000] [--backend both]

Per backend (PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL, whose public schema
is DROPPED and recreated; and SQLite in a temporary folder):

1. This process seeds the database: `agents` agents with a Facebook and an Instagram
   account each; `listings` homes with full facts, photos and descriptions, each assigned
   to `drafts / listings` agents with one draft each. One draft in ten waits for the agent
   (all on their phones but 100), one in twenty is approved with its posts queued, one in
   twenty waits for marketing, the rest are posted (with their post rows) or rejected.
   A fake builder site lists every home in its sitemap, 1 % of them changed since.
2. The bot runs in a fresh process (bench/_memory_child.py, started with `python -m`, so
   that it imports what `rltr-mktg run` imports and nothing of the bench: the seeding,
   the fake Telegram and the fake site count nowhere). Like `run` it applies migrations,
   then starts the real Application (bot/app.py) long-polling the fake Telegram; its
   jobs run one at a time on request so each step's memory shows:
   `started`, `delivery` (one round), `scrape` (one incremental pass over the whole
   sitemap), `regenerate` (rewrites, then the draft backfill over every assignment),
   `admin_commands` (/stats, /agents, /failed), `agent_commands` (/drafts, /listings,
   /schedule, /notifications from the agent with the most waiting drafts).
3. After each step: the child's VmRSS, and VmHWM (the peak so far) from /proc.
4. `startup_profile` (once, from two more fresh processes): the resident memory and time
   each package adds when the modules a started bot imports are imported package by
   package (stdlib, then third-party in the order met, then ours), and tracemalloc's
   largest allocations made while the bot starts (migrations included).

The bot's 30 messages/s budget is lifted in the child: it would only make the run longer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from bench._harness import (
    BenchError,
    backends,
    emit,
    fresh_database_url,
    machine,
    open_database,
    postgres_url,
    quiet_logging,
)
from db.models import (
    Agent,
    AgentListing,
    ContentPiece,
    Listing,
    PostSchedule,
    SocialMediaAccount,
)
from db.status import ContentStatus
from services.context import Database
from tests.fakes.builder_site import FakeBuilderSite
from tests.fakes.telegram_api import FakeTelegram, FakeUser, FloodLimits

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 150.0
ADMIN_ID = 900_000_001
FIRST_AGENT_ID = 800_000
BATCH = 2_000
STEPS = ("started", "delivery", "scrape", "regenerate", "admin_commands", "agent_commands")
ADMIN_COMMANDS = ("/stats", "/agents", "/failed")
AGENT_COMMANDS = ("/drafts", "/listings", "/schedule", "/notifications")
# Out of every 20 drafts, by position: what state it is in.
_STATUS_CYCLE = (
    [ContentStatus.PENDING_APPROVAL_AGENT] * 2
    + [ContentStatus.APPROVED_FOR_POSTING]
    + [ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL]
    + [ContentStatus.REJECTED] * 4
    + [ContentStatus.POSTED_SUCCESSFULLY] * 12
)
_DESCRIPTION = (
    "Welcome home to this brand-new single-family home with an open floor plan, a kitchen "
    "with granite counters and a large island, stainless appliances, a split bedroom plan, "
    "a primary suite with a walk-in closet and dual vanities, a covered lanai and an "
    "attached two-car garage. Built with energy-efficient windows and a smart-home "
    "package, close to shopping, schools and parks. "
) * 3


@dataclass(frozen=True)
class Options:
    """One bench configuration."""

    listings: int = 10_000
    drafts: int = 50_000
    agents: int = 100
    changed_pct: float = 1.0
    undelivered: int = 100
    timeout: float = 300.0
    # A command's answers are complete once the bot sent nothing for this long.
    quiet_s: float = 1.0
    profile: bool = True


@dataclass(frozen=True)
class ChildConfig:
    """What the bot process needs to start."""

    database_url: str
    telegram_url: str
    token: str
    site_url: str
    data_dir: str


# --------------------------------------------------------------------------------------
# Seeding (this process)
# --------------------------------------------------------------------------------------


def _lastmod(i: int) -> datetime:
    # The fake site's synthetic homes carry this lastmod (add_synthetic_homes).
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=i)


async def _insert(database: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with database.unit_of_work() as s:
            await s.execute(insert(model), rows[start : start + BATCH])


async def seed(database: Database, slugs: list[str], site: FakeBuilderSite, o: Options) -> int:
    """Agents, accounts, listings, assignments, drafts and post rows; returns the Telegram
    user id of the agent with the most waiting drafts."""
    now = datetime.now(UTC)
    agents: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    account_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    for n in range(o.agents):
        agent_id = uuid.uuid4()
        uid = FIRST_AGENT_ID + n
        agents.append(
            {
                "id": agent_id,
                "name": f"Agent {n}",
                "email": f"agent{n}@example.com",
                "company": "Sunrise Realty",
                "phone": "352-555-0100",
                "telegram_user_id": uid,
                "telegram_chat_id": uid,
                "timezone": "America/New_York",
            }
        )
        account_of[agent_id] = []
        for platform in ("facebook", "instagram"):
            pk = uuid.uuid4()
            account_of[agent_id].append(pk)
            accounts.append(
                {
                    "id": pk,
                    "agent_id": agent_id,
                    "platform": platform,
                    "account_id": f"{platform}-{n}",
                    "access_token_encrypted": "x" * 180,
                    "display_name": f"{platform.title()} page {n}",
                }
            )
    await _insert(database, Agent, agents)
    await _insert(database, SocialMediaAccount, accounts)

    listings: list[dict[str, Any]] = []
    for i, slug in enumerate(slugs[: o.listings]):
        listings.append(
            {
                "id": uuid.uuid4(),
                "source_id": slug,
                "source_url": site.home_url(slug),
                "source_lastmod": _lastmod(i),
                "address": f"{1000 + i} SW {10 + i % 90}th Street",
                "city": "Ocala",
                "state": "FL",
                "zip_code": "34473",
                "price": Decimal(250_000 + (i * 37 % 100) * 1000),
                "beds": 3 + i % 2,
                "baths": Decimal("2"),
                "sqft": 1400 + i % 900,
                "garage": 2,
                "plan_name": "Sanibel",
                "community": "Marion Oaks",
                "description": _DESCRIPTION,
                "key_features": ["Open floor plan", "Granite counters", "Covered lanai"] * 2,
                "image_urls": [
                    f"{site.base_url}/wp-content/uploads/{slug}-{k}.jpg" for k in range(12)
                ],
                "facts": {"hoa": "$45/mo", "lot": "0.23 acres", "year_built": 2026},
                "content_hash": f"{i:064x}",
            }
        )
    await _insert(database, Listing, listings)

    per_listing = max(1, o.drafts // max(1, len(listings)))
    if per_listing > len(agents):
        raise BenchError(f"{per_listing} drafts per home need at least as many agents")
    assignments: list[dict[str, Any]] = []
    pieces: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    waiting: dict[int, int] = {}
    queued: dict[uuid.UUID, int] = {}
    for i, listing in enumerate(listings):
        for k in range(per_listing):
            n = i * per_listing + k
            agent = agents[(i + k) % len(agents)]
            status = _STATUS_CYCLE[n % len(_STATUS_CYCLE)]
            piece_id = uuid.uuid4()
            text = f"{listing['address']}: {_DESCRIPTION[:400]}"
            delivered = status != ContentStatus.PENDING_APPROVAL_AGENT or n >= o.undelivered * 10
            pieces.append(
                {
                    "id": piece_id,
                    "listing_id": listing["id"],
                    "agent_id": agent["id"],
                    "content_type": "social_media_post",
                    "generated_text": {
                        "headline": f"New home at {listing['address']}",
                        "body": text,
                        "hashtags": ["#Ocala", "#NewHome", "#MarionOaks"],
                        "call_to_action": "Call me to tour it this week.",
                        "facebook_text": f"{text} Sunrise Realty. Equal Housing Opportunity.",
                        "instagram_text": f"{text} #Ocala Equal Housing Opportunity.",
                    },
                    "associated_image_urls": listing["image_urls"][:4],
                    "status": status.value,
                    "version": 1,
                    "writer": "builtin",
                    "telegram_chat_id": agent["telegram_chat_id"] if delivered else None,
                    "telegram_message_id": 1_000 + n if delivered else None,
                    "delivered_version": 1 if delivered else None,
                }
            )
            assignments.append({"agent_id": agent["id"], "listing_id": listing["id"]})
            if status == ContentStatus.PENDING_APPROVAL_AGENT:
                uid = agent["telegram_user_id"]
                waiting[uid] = waiting.get(uid, 0) + 1
            if status in (ContentStatus.POSTED_SUCCESSFULLY, ContentStatus.APPROVED_FOR_POSTING):
                slot = queued.get(agent["id"], 0)
                queued[agent["id"]] = slot + 1
                when = (
                    now + timedelta(hours=slot + 1)
                    if status == ContentStatus.APPROVED_FOR_POSTING
                    else now - timedelta(hours=slot + 1)
                )
                for pk in account_of[agent["id"]]:
                    posts.append(
                        {
                            "id": uuid.uuid4(),
                            "content_piece_id": piece_id,
                            "social_media_account_id": pk,
                            "scheduled_at": when,
                            "status": (
                                "pending"
                                if status == ContentStatus.APPROVED_FOR_POSTING
                                else "success"
                            ),
                        }
                    )
    await _insert(database, AgentListing, assignments)
    await _insert(database, ContentPiece, pieces)
    await _insert(database, PostSchedule, posts)
    return max(waiting, key=lambda uid: waiting[uid])


# --------------------------------------------------------------------------------------
# The bot process
# --------------------------------------------------------------------------------------


class BotProcess:
    """The bot in a fresh process (`python -m bench._memory_child`), run step by step."""

    def __init__(self, config: ChildConfig, *, mode: str = "steps", **extra: Any) -> None:
        self._config = {**config.__dict__, "admin_id": ADMIN_ID, "mode": mode, **extra}
        self._process: asyncio.subprocess.Process | None = None

    async def _recv(self, wait_s: float) -> Any:
        assert self._process is not None and self._process.stdout is not None
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), wait_s)
        except TimeoutError:
            raise BenchError(f"the bot process did not answer within {wait_s:.0f} s") from None
        if not line:
            raise RuntimeError("the bot process ended without answering")
        status, value = json.loads(line)
        if status == "error":
            raise RuntimeError(f"bot process failed:\n{value}")
        return value

    async def _send(self, value: Any) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write((json.dumps(value) + "\n").encode())
        await self._process.stdin.drain()

    async def start(self, wait_s: float) -> Any:
        """Start the process; its first answer (the memory once polling, in steps mode)."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._memory_child",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        await self._send(self._config)
        return await self._recv(wait_s)

    async def step(self, name: str, wait_s: float) -> dict[str, Any]:
        """Run one step there; its memory afterwards."""
        await self._send(name)
        result: dict[str, Any] = await self._recv(wait_s)
        return result

    async def stop(self) -> None:
        """Stop the bot and its process."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(OSError, RuntimeError, BenchError, ConnectionError):
                await self._send("stop")
                await self._recv(30)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 30)
        if process.returncode is None:
            process.kill()
            await process.wait()


async def startup_profile(config: ChildConfig, wait_s: float) -> Any:
    """Where a started bot's memory goes: import cost per package, allocations at start."""
    lister = BotProcess(config, mode="modules")
    try:
        modules = await lister.start(wait_s)
    finally:
        await lister.stop()
    profiler = BotProcess(config, mode="profile", modules=modules)
    try:
        return await profiler.start(wait_s)
    finally:
        await profiler.stop()


async def _converse(user: FakeUser, commands: tuple[str, ...], quiet_s: float) -> int:
    """Send each command and wait until the bot has stopped answering; messages received."""
    received = 0
    for command in commands:
        before = len(user.chat.bot_message_ids)
        await user.send_command(command)
        await user.wait_for(lambda b=before: len(user.chat.bot_message_ids) > b or None, 60)
        count = len(user.chat.bot_message_ids)
        while True:
            await asyncio.sleep(quiet_s)
            now = len(user.chat.bot_message_ids)
            if now == count:
                break
            count = now
        received += count - before
    return received


# --------------------------------------------------------------------------------------
# One backend
# --------------------------------------------------------------------------------------


async def run_backend(backend: str, pg_url: str | None, o: Options) -> dict[str, Any]:
    """Seed, start the bot, run every step; one JSON section."""
    with tempfile.TemporaryDirectory(prefix="rltr-bench-memory-") as tmp:
        workdir = Path(tmp)
        url = await fresh_database_url(backend, pg_url, workdir)
        async with (
            FakeBuilderSite(include_fixtures=False) as site,
            FakeTelegram(flood=FloodLimits(enabled=False)) as fake,
        ):
            slugs = site.add_synthetic_homes(o.listings)
            t0 = time.monotonic()
            async with open_database(url) as database:
                agent_uid = await seed(database, slugs, site, o)
            seeded = time.monotonic() - t0
            changed = slugs[:: max(1, round(100 / o.changed_pct))] if o.changed_pct > 0 else []
            for slug in changed:
                site.set_price(slug, "$199,990", touch=True)
            admin = fake.user(ADMIN_ID, first_name="Admin")
            agent = fake.user(agent_uid, first_name="Agent")
            for n in range(o.agents):
                fake.user(FIRST_AGENT_ID + n, first_name="Agent")
            config = ChildConfig(url, fake.base_url, fake.token, site.base_url, str(workdir))
            bot = BotProcess(config)
            steps: dict[str, Any] = {}
            try:
                steps["started"] = await bot.start(o.timeout)
                for name in ("delivery", "scrape", "regenerate"):
                    steps[name] = await bot.step(name, o.timeout)
                sent = await _converse(admin, ADMIN_COMMANDS, o.quiet_s)
                steps["admin_commands"] = await bot.step("report", o.timeout) | {"messages": sent}
                sent = await _converse(agent, AGENT_COMMANDS, o.quiet_s)
                steps["agent_commands"] = await bot.step("report", o.timeout) | {"messages": sent}
            finally:
                await bot.stop()
            site_requests = len(site.requests)
            profile = await startup_profile(config, o.timeout) if o.profile else None
    peak = max(s["peak_rss_mb"] for s in steps.values())
    return {
        "seeded": {
            "agents": o.agents,
            "listings": o.listings,
            "drafts": (o.drafts // max(1, o.listings)) * o.listings,
            "changed_homes": len(changed),
            "seconds": round(seeded, 1),
        },
        "steps": steps,
        "site_requests": site_requests,
        "peak_rss_mb": peak,
        "target_mb": TARGET_MB,
        "meets_target": peak < TARGET_MB,
        "startup_profile": profile,
    }


async def run(
    o: Options, *, backend: str = "both", database_url: str | None = None
) -> dict[str, Any]:
    """The whole bench: one section per backend."""
    pg_url = postgres_url(database_url)
    result: dict[str, Any] = {"bench": "memory", "machine": machine(), "options": o.__dict__}
    for name in backends(backend, pg_url):
        result[name] = await run_backend(name, pg_url, o)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line entry: parse options, run, print JSON."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    p.add_argument("--listings", type=int, default=Options.listings)
    p.add_argument("--drafts", type=int, default=Options.drafts)
    p.add_argument("--agents", type=int, default=Options.agents)
    p.add_argument("--changed-pct", type=float, default=Options.changed_pct)
    p.add_argument("--backend", choices=("both", "postgresql", "sqlite"), default="both")
    p.add_argument("--database-url", default=None, help="PostgreSQL URL (throw-away database)")
    args = p.parse_args(argv)
    quiet_logging()
    opts = Options(
        listings=args.listings,
        drafts=args.drafts,
        agents=args.agents,
        changed_pct=args.changed_pct,
    )
    try:
        emit(asyncio.run(run(opts, backend=args.backend, database_url=args.database_url)))
    except BenchError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
