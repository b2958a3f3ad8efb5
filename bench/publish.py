"""Publishing benchmark: prints one JSON object.

1. 500 due posts over 50 accounts (25 Facebook Pages, 25 Instagram accounts, 10 posts
   each, one JPEG per post) against the fake Graph API with 100 ms latency per Graph call,
   published by one `publish_due` round on SQLite (the embedded default), and on
   PostgreSQL when a URL is given. Reports wall time, posts/s, duplicates and the ratio to
   the ideal set by the concurrency limit and the one-post-at-a-time-per-account rule:

       ideal = max(graph calls × latency / concurrency,
                   the longest account's calls × latency)

2. Two publisher *processes* at once on PostgreSQL (same fake Graph, same 500 posts):
   duplicates must still be 0.

3. kill -9 on PostgreSQL: two publisher processes are SIGKILLed at a random moment
   (up to a second) after they began publishing, `--kills` times over; after each kill a
   restarted process settles what they left in flight by asking the fake Graph (found →
   success with its link; never went out → queued again), timed against one publish
   interval; at the end a last process publishes the rest.
   Target (PRODUCT §7): no duplicate post, no lost decision, no "outcome unknown" (the
   fake can always tell), nothing published but unrecorded, every in-flight post settled
   within one publish interval after the restart.

PostgreSQL: BENCH_DATABASE_URL names the bench's database (created if missing; its public
schema is dropped and re-migrated each run); with only TEST_DATABASE_URL, the bench uses
its own database `rltr_bench_publish` on that server.

    .venv/bin/python bench/publish.py [--posts 500] [--accounts 50] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import sys
import time
import uuid
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from db import migrate  # noqa: E402
from db.base import utcnow  # noqa: E402
from db.models import (  # noqa: E402
    Agent,
    ContentPiece,
    ContentVersion,
    Listing,
    PostSchedule,
    SocialMediaAccount,
)
from db.session import create_engine, create_sessionmaker  # noqa: E402
from services.context import Database  # noqa: E402
from services.crypto import TokenCipher, generate_key  # noqa: E402
from services.publishing.graph_resources import GraphResources  # noqa: E402
from services.publishing.orphan_settling import settle_orphans  # noqa: E402
from services.publishing.post_outcomes import OUTCOME_UNKNOWN  # noqa: E402
from services.publishing.publish_leases import default_worker_id  # noqa: E402
from services.publishing.publish_rounds import publish_due  # noqa: E402
from services.publishing.round_stats import DEFAULT_CONCURRENCY  # noqa: E402

BENCH_DB = "rltr_bench_publish"


def _quiet() -> None:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    for name in ("aiohttp", "sqlalchemy", "services", "tests"):
        logging.getLogger(name).setLevel(logging.ERROR)


async def _pg_url() -> str | None:
    bench_url = os.environ.get("BENCH_DATABASE_URL")
    raw = bench_url or os.environ.get("TEST_DATABASE_URL")
    if not raw:
        return None
    url = make_url(raw).set(drivername="postgresql+asyncpg")
    # BENCH_DATABASE_URL names the bench's own database; a test server gets BENCH_DB.
    name = (url.database if bench_url else None) or BENCH_DB
    admin = create_engine(url.set(database="postgres"), null_pool=True)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        exists = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def _fresh(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url, null_pool=True)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await migrate.upgrade(url)


def _accounts(n: int) -> list[tuple[str, str, str]]:
    """(platform, account id, token) for n accounts, half Pages and half Instagram."""
    out = []
    for i in range(n):
        if i % 2 == 0:
            out.append(("facebook", f"10{i:013d}", f"EAAGbenchPage{i:04d}" + "p" * 24))
        else:
            out.append(("instagram", f"1784{i:013d}", f"IGAAbenchUser{i:04d}" + "u" * 24))
    return out


class FakeGraph:
    """The fake Graph API running in its own process (as the real one is remote)."""

    def __init__(self, base_url: str, root_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.root_url = root_url
        self._session = session

    async def control(self, path: str, **params: Any) -> dict[str, Any]:
        """Call one of the fake's `/__fake__/…` endpoints."""
        method = "POST" if params else "GET"
        async with self._session.request(
            method, f"{self.root_url}/__fake__/{path}", data=params or None
        ) as resp:
            resp.raise_for_status()
            result: dict[str, Any] = await resp.json()
            return result

    async def register(self, accounts: list[tuple[str, str, str]]) -> None:
        """Pages and Instagram accounts, with a quota that the bench never reaches."""
        for platform, account_id, token in accounts:
            if platform == "facebook":
                await self.control(
                    "pages", page_id=account_id, token=token, name=f"Page {account_id[-4:]}"
                )
            else:
                await self.control(
                    "ig_users",
                    ig_user_id=account_id,
                    token=token,
                    username=f"user{account_id[-4:]}",
                    quota_total="1000",
                )


@asynccontextmanager
async def fake_graph(latency: float) -> AsyncIterator[FakeGraph]:
    """Start `python -m tests.fakes.graph_api` on a free port; stop it afterwards."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.graph_api",
        "--latency",
        str(latency),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        urls = json.loads(line)
        async with aiohttp.ClientSession() as session:
            yield FakeGraph(urls["base_url"], urls["root_url"], session)
    finally:
        proc.terminate()
        await proc.wait()


async def _seed(
    database: Database,
    accounts: list[tuple[str, str, str]],
    posts: int,
    image_url: str,
) -> None:
    """Agents own two accounts each; every piece goes to both, so rows = posts."""
    now = utcnow()
    async with database.unit_of_work() as s:
        pairs: list[tuple[uuid.UUID, list[uuid.UUID]]] = []
        for a in range(0, len(accounts), 2):
            agent = Agent(id=uuid.uuid4(), name=f"Agent {a}", email=f"agent{a}@bench.example")
            s.add(agent)
            pks = []
            for platform, account_id, token in accounts[a : a + 2]:
                acc = SocialMediaAccount(
                    id=uuid.uuid4(),
                    agent_id=agent.id,
                    platform=platform,
                    account_id=account_id,
                    access_token_encrypted=database.cipher.encrypt(token),
                    display_name=account_id,
                )
                s.add(acc)
                pks.append(acc.id)
            pairs.append((agent.id, pks))
        await s.flush()
        rows = 0
        n = 0
        while rows < posts:
            agent_id, pks = pairs[n % len(pairs)]
            listing = Listing(
                id=uuid.uuid4(),
                source_id=f"bench-{n}",
                address=f"{100 + n} SW Bench Trail",
                city="Ocala",
                state="FL",
                zip_code="34473",
                image_urls=[image_url],
            )
            generated = {
                "headline": f"Home {n}",
                "body": "3 bed, 2 bath.",
                "facebook_text": f"Home {n} in Ocala. Equal Housing Opportunity.",
                "instagram_text": f"Home {n} in Ocala #Ocala. Equal Housing Opportunity.",
            }
            piece = ContentPiece(
                id=uuid.uuid4(),
                listing_id=listing.id,
                agent_id=agent_id,
                content_type="social_media_post",
                generated_text=generated,
                associated_image_urls=[image_url],
                status="approved_for_posting",
                version=1,
            )
            s.add_all([listing, piece])
            s.add(ContentVersion(content_piece_id=piece.id, version=1, generated_text=generated))
            for pk in pks[: posts - rows]:
                s.add(
                    PostSchedule(
                        id=uuid.uuid4(),
                        content_piece_id=piece.id,
                        social_media_account_id=pk,
                        scheduled_at=now,
                        status="pending",
                    )
                )
                rows += 1
            n += 1


async def _group_count(url: str, column: Any) -> dict[str, int]:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(column, func.count()).group_by(column))
            return {str(k): int(v) for k, v in rows.all()}
    finally:
        await engine.dispose()


async def _statuses_of(url: str) -> dict[str, int]:
    return await _group_count(url, PostSchedule.status)


async def _claimers_of(url: str) -> dict[str, int]:
    return await _group_count(url, PostSchedule.claimed_by)


# Graph calls per post (see tests/services/publishing): a Page photo is /photos + permalink; an
# Instagram photo is quota + container + status + media_publish + permalink.
CALLS_PER_POST = {"facebook": 2, "instagram": 5}


def _ideal(
    accounts: list[tuple[str, str, str]], posts: int, latency: float, concurrency: int
) -> float:
    """The best wall time: all calls spread over `concurrency`, or the busiest account."""
    per_account = posts / len(accounts)
    chains = [CALLS_PER_POST[p] * per_account * latency for p, _, _ in accounts]
    return max(sum(chains) / concurrency, max(chains))


async def single_round(url: str, args: argparse.Namespace, label: str) -> dict[str, Any]:
    """One process, one round of publish_due over every due post."""
    await _fresh(url)
    engine = create_engine(url)
    database = Database(engine, create_sessionmaker(engine), TokenCipher([generate_key()]))
    accounts = _accounts(args.accounts)
    try:
        async with fake_graph(args.latency) as fake:
            await fake.register(accounts)
            image = await fake.control("jpeg", name="home.jpg", width="1080", height="1080")
            await _seed(database, accounts, args.posts, image["url"])
            # The fake serves the photos, standing in for the builder's site.
            graph = GraphResources.open(
                fake.base_url, listings_base_url=fake.base_url, poll_interval_s=0.2
            )
            try:
                cpu = time.process_time()
                started = time.perf_counter()
                result = await publish_due(
                    database, graph.publisher, batch=args.posts, concurrency=args.concurrency
                )
                wall = time.perf_counter() - started
                cpu = time.process_time() - cpu
            finally:
                await graph.aclose()
            state = await fake.control("state")
    finally:
        await engine.dispose()
    ideal = _ideal(accounts, args.posts, args.latency, args.concurrency)
    statuses = await _statuses_of(url)
    return {
        "database": label,
        "posts": args.posts,
        "accounts": args.accounts,
        "latency_s_per_graph_call": args.latency,
        "concurrency": args.concurrency,
        "wall_s": round(wall, 3),
        "publisher_cpu_s": round(cpu, 3),
        "posts_per_s": round(result.succeeded / wall, 1),
        "succeeded": result.succeeded,
        "not_succeeded": result.failed + result.retried + result.errors,
        "graph_calls": state["calls"],
        "visible_posts": state["posts"],
        "duplicates": state["duplicates"],
        "ideal_s": round(ideal, 3),
        "ratio_to_ideal": round(wall / ideal, 3) if ideal else None,
        "rows": statuses,
        "target_wall_s": 15,
        "meets_target": wall < 15
        and state["duplicates"] == 0
        and statuses.get("success") == args.posts,
    }


@asynccontextmanager
async def _seeded(
    url: str, args: argparse.Namespace
) -> AsyncIterator[tuple[Database, FakeGraph, dict[str, str]]]:
    """A fresh database holding the due posts, the fake Graph, and the workers' environment."""
    await _fresh(url)
    key = generate_key()
    engine = create_engine(url)
    database = Database(engine, create_sessionmaker(engine), TokenCipher([key]))
    accounts = _accounts(args.accounts)
    try:
        async with fake_graph(args.latency) as fake:
            await fake.register(accounts)
            image = await fake.control("jpeg", name="home.jpg", width="1080", height="1080")
            await _seed(database, accounts, args.posts, image["url"])
            env = {**os.environ, "BENCH_KEY": key, "BENCH_URL": url, "BENCH_GRAPH": fake.base_url}
            yield database, fake, env
    finally:
        await engine.dispose()


async def _spawn_worker(
    name: str,
    concurrency: int,
    env: dict[str, str],
    *,
    report: bool = False,
    settle: bool = False,
) -> Process:
    """A publisher process (`--worker`); with `report`, its JSON summary on stdout; with
    `settle`, it only settles orphaned posts (a restart's first job) and exits."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--worker",
        name,
        "--concurrency",
        str(concurrency),
        *(["--settle"] if settle else []),
        stdout=asyncio.subprocess.PIPE if report else asyncio.subprocess.DEVNULL,
        env=env,
    )


async def two_processes(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Two publisher processes drain the same posts on PostgreSQL at the same time."""
    async with _seeded(url, args) as (_database, fake, env):
        started = time.perf_counter()
        procs = [
            await _spawn_worker(f"bench-worker-{i}", args.concurrency, env, report=True)
            for i in range(2)
        ]
        outs = await asyncio.gather(*(p.communicate() for p in procs))
        wall = time.perf_counter() - started
        state = await fake.control("state")
    workers = [json.loads(out.decode()) for out, _ in outs]
    statuses = await _statuses_of(url)
    return {
        "database": "postgresql",
        "processes": 2,
        "posts": args.posts,
        "wall_s": round(wall, 3),
        "workers": workers,
        "claimed_by": await _claimers_of(url),
        "visible_posts": state["posts"],
        "duplicates": state["duplicates"],
        "rows": statuses,
        "zero_duplicates": state["duplicates"] == 0
        and statuses.get("success") == args.posts
        and sum(w["claimed"] for w in workers) == args.posts,
    }


async def killed_workers(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Publisher processes killed with SIGKILL mid-round; after each kill a restarted
    process settles what they left in flight, within one publish interval; at the end a
    last process publishes the rest. No duplicate post, no post or piece left undecided."""
    rng = random.Random(args.seed)
    killed = finished = 0
    rounds: list[dict[str, Any]] = []
    async with _seeded(url, args) as (database, fake, env):
        for n in range(args.kills):
            procs = [
                await _spawn_worker(f"doomed-{n}-{i}", args.concurrency, env) for i in range(2)
            ]
            # Kill mid-round: once posts are being published, at a random moment.
            await _publishing_started(database, procs)
            await asyncio.sleep(rng.uniform(0.0, 1.0))
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGKILL)
                    killed += 1
                else:
                    finished += 1
            await asyncio.gather(*(proc.wait() for proc in procs))
            in_flight = await _sent_ids(database)
            # The restart: a new process settles the orphans (as its start-up recovery and
            # each round do), asking the fake Graph what became of each.
            started = time.perf_counter()
            restart = await _spawn_worker(
                f"restart-{n}", args.concurrency, env, report=True, settle=True
            )
            out, _err = await restart.communicate()
            settle_s = time.perf_counter() - started
            left = await _sent_ids(database)
            report = json.loads(out.decode()) if out else {}
            rounds.append(
                {
                    "in_flight_at_kill": len(in_flight),
                    "settled": len(in_flight - left),
                    "settle_s": round(settle_s, 3),
                    "within_one_interval": not (in_flight & left)
                    and settle_s <= args.publish_interval,
                    "found_published": report.get("reconciled_published", 0),
                    "retried": report.get("reconciled_retried", 0),
                    "settle_passes": report.get("passes", 0),
                }
            )
        last = await _spawn_worker("after-restart", args.concurrency, env)
        await last.wait()
        state = await fake.control("state")
    rows = await _statuses_of(url)
    pieces = await _group_count(url, ContentPiece.status)
    unknown = await _unknown_outcomes(url)
    lost_rows = sum(v for k, v in rows.items() if k not in ("success", "failed"))
    lost_pieces = sum(
        v for k, v in pieces.items() if k not in ("posted_successfully", "posting_failed")
    )
    unknown_but_published = state["posts"] - rows.get("success", 0)
    return {
        "database": "postgresql",
        "posts": args.posts,
        "kill_rounds": args.kills,
        "publish_interval_s": args.publish_interval,
        "processes_killed": killed,
        "processes_done_before_the_kill": finished,
        "rounds": rounds,
        "rows": rows,
        "outcome_unknown_rows": unknown,
        "failed_other_than_unknown": rows.get("failed", 0) - unknown,
        "pieces": pieces,
        "visible_posts": state["posts"],
        "duplicates": state["duplicates"],
        # Published on the page but not recorded as success: the limbo this bench guards.
        "unknown_but_published": unknown_but_published,
        "lost_rows": lost_rows,
        "lost_pieces": lost_pieces,
        "meets_target": state["duplicates"] == 0
        and lost_rows == 0
        and lost_pieces == 0
        and unknown == 0
        and unknown_but_published == 0
        and all(r["within_one_interval"] for r in rounds),
    }


async def _sent_ids(database: Database) -> set[uuid.UUID]:
    async with database.unit_of_work() as s:
        rows = await s.scalars(select(PostSchedule.id).where(PostSchedule.status == "sent"))
        return set(rows.all())


async def _publishing_started(database: Database, procs: list[Process]) -> None:
    """Wait until a post is claimed (`sent`), or every process has exited."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(p.returncode is None for p in procs):
        async with database.unit_of_work() as s:
            claimed = await s.scalar(
                select(func.count()).select_from(PostSchedule).where(PostSchedule.status == "sent")
            )
        if claimed:
            return
        await asyncio.sleep(0.05)


async def _unknown_outcomes(url: str) -> int:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(PostSchedule)
                .where(
                    PostSchedule.status == "failed", PostSchedule.error_message == OUTCOME_UNKNOWN
                )
            )
            return int(count or 0)
    finally:
        await engine.dispose()


def _graph_resources(graph_url: str) -> GraphResources:
    """The Graph session as a publisher process opens it, with call deadlines scaled to the
    fake's 100 ms latency: an orphaned Facebook call is certainly over after
    (1 + retries) × timeout + back-off + margin = 2 × 2 + 0.5 + 1 = 5.5 s."""
    return GraphResources.open(
        graph_url,
        listings_base_url=graph_url,
        poll_interval_s=0.2,
        timeout_s=2.0,
        max_retries=1,
        backoff_base_s=0.05,
        max_backoff_s=0.5,
        visible_call_margin=timedelta(seconds=1),
    )


async def worker(name: str, concurrency: int, *, settle: bool = False) -> dict[str, Any]:
    """A publisher process: rounds until nothing is due (`settle`: only orphans, until none
    is left `sent` by a dead holder). It claims as the bot does, as host:pid:nonce."""
    worker_id = default_worker_id()
    url, key, graph_url = (
        os.environ["BENCH_URL"],
        os.environ["BENCH_KEY"],
        os.environ["BENCH_GRAPH"],
    )
    engine = create_engine(url)
    database = Database(engine, create_sessionmaker(engine), TokenCipher([key]))
    graph = _graph_resources(graph_url)
    claimed = succeeded = rounds = 0
    found = retried = passes = 0
    started = time.perf_counter()
    try:
        if settle:
            while True:
                passes += 1
                result = await settle_orphans(
                    database, graph.publisher, graph.reconciler, worker_id=worker_id
                )
                found += result.reconciled_published
                retried += result.reconciled_retried
                if not result.reconciled_waiting or time.perf_counter() - started > 60:
                    break
                await asyncio.sleep(0.5)
        while not settle:
            result = await publish_due(
                database,
                graph.publisher,
                concurrency=concurrency,
                worker_id=worker_id,
                reconciler=graph.reconciler,
            )
            rounds += 1
            claimed += result.claimed
            succeeded += result.succeeded
            found += result.reconciled_published
            retried += result.reconciled_retried
            if result.claimed == 0 and not result.reconciled_waiting:
                break
    finally:
        await graph.aclose()
        await engine.dispose()
    return {
        "worker": name,
        "holder": worker_id,
        "rounds": rounds,
        "passes": passes,
        "claimed": claimed,
        "succeeded": succeeded,
        "reconciled_published": found,
        "reconciled_retried": retried,
        "wall_s": round(time.perf_counter() - started, 3),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"rltr-bench-publish-{os.getpid()}.db"
    out: dict[str, Any] = {"bench": "publish"}
    try:
        out["sqlite"] = await single_round(f"sqlite+aiosqlite:///{tmp}", args, "sqlite")
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240
    pg = await _pg_url()
    if pg is None:
        out["postgresql"] = "skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL"
    else:
        out["postgresql"] = await single_round(pg, args, "postgresql")
        out["postgresql_two_processes"] = await two_processes(pg, args)
        out["postgresql_kill_9"] = await killed_workers(pg, args)
    return out


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--kills", type=int, default=4, help="kill -9 rounds (PostgreSQL)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the kill moments")
    parser.add_argument(
        "--publish-interval",
        type=float,
        default=30.0,
        help="the bot's PUBLISH_INTERVAL_SECONDS: orphans must settle within it",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--settle", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    _quiet()
    options = _parse()
    if options.worker:
        print(
            json.dumps(
                asyncio.run(worker(options.worker, options.concurrency, settle=options.settle))
            )
        )
    else:
        print(json.dumps(asyncio.run(main(options)), indent=2))
