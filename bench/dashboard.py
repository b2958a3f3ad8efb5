"""The dashboard with real volumes: each page's server time, and the audit CSV export.

PRODUCT §7: with 10,000 listings and 50,000 drafts every page renders in < 200 ms of server
time; the audit CSV of 100,000 rows streams in < 5 s with flat memory.
Run from the repository root (prints one JSON object)::

    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/rltr_bench \\
        .venv/bin/python bench/dashboard.py [--listings 10000] [--drafts 50000] \\
        [--audit-rows 100000] [--requests 30] [--backend both]

Per backend (PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL, whose public schema
is DROPPED and recreated; and SQLite in a temporary folder):

1. This process seeds the database as bench/memory.py does (100 agents with two accounts
   each, the listings with photos and descriptions, the drafts in every status with their
   posts), then adds `audit_rows` approval_logs over a year, two price changes for one
   home in ten, and a failed post for one posted draft in fifty; and two dashboard users
   with a session each: an admin, and the user of the agent with the most drafts. Then
   VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite), as a running database is kept.
2. The web server runs in a child process (the dashboard of web/app.py on that database),
   so the seeding and this client count nowhere.
3. Each page is asked `requests` times in a row by each user (after 3 warm-up requests);
   the server time is the app's own `Server-Timing` header (from the request reaching the
   app to the response being sent, the session check included), the client time is the
   whole round trip. Reported: p50, p95 and max per page, and the worst p95.
4. The admin downloads the whole audit CSV twice; the child's resident memory is sampled
   every 20 ms meanwhile. Reported: rows, seconds, RSS before, peak and growth.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import re
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy import func, select, text

from bench import memory
from bench._harness import (
    BenchError,
    backends,
    emit,
    fresh_database_url,
    machine,
    open_database,
    percentile,
    postgres_url,
    quiet_logging,
)
from db.base import utcnow
from db.models import Agent, ApprovalLog, ContentPiece, Listing, ListingPriceChange, PostSchedule
from db.repositories import users as users_repo
from db.repositories import web_sessions
from db.status import ApprovalAction, ContentStatus
from services import dashboard_auth as auth
from services.context import Database
from services.onboarding import hash_invite_token

PAGE_TARGET_MS = 200.0
CSV_TARGET_S = 5.0
SESSION_COOKIE = "rltr_session"
BATCH = 5_000
_ACTIONS = [a.value for a in ApprovalAction if a != ApprovalAction.EDITED]


@dataclass(frozen=True)
class Options:
    """One bench configuration."""

    listings: int = 10_000
    drafts: int = 50_000
    audit_rows: int = 100_000
    requests: int = 30
    warmup: int = 3
    timeout: float = 600.0


# --------------------------------------------------------------------------------------
# Seeding (this process)
# --------------------------------------------------------------------------------------


async def _insert(database: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with database.unit_of_work() as s:
            await s.execute(model.__table__.insert(), rows[start : start + BATCH])


async def _session_for(database: Database, **user: Any) -> str:
    """A dashboard user and a live session of it (by a login link: no argon2 cost)."""
    token = "bench-" + uuid.uuid4().hex
    async with database.unit_of_work() as s:
        made = await users_repo.create_user(
            s, email=f"{uuid.uuid4().hex[:8]}@bench.example", password_hash=auth.NO_PASSWORD, **user
        )
        await web_sessions.create_login_link(
            s,
            user_id=made.id,
            token_hash=hash_invite_token(token),
            expires_at=utcnow() + timedelta(minutes=5),
        )
    async with database.unit_of_work() as s:
        signed = await auth.sign_in_with_link(s, token=token, now=utcnow())
    assert signed.token is not None
    return signed.token


async def seed(database: Database, o: Options) -> dict[str, Any]:
    """The memory bench's data plus audit rows, price history and failures; two users."""
    site = SimpleNamespace(
        base_url="https://holidaybuilders.com",
        home_url=lambda slug: f"https://holidaybuilders.com/new-homes-for-sale/{slug}/",
    )
    slugs = [f"bench-home-{i:05d}" for i in range(o.listings)]
    uid = await memory.seed(
        database,
        slugs,
        site,
        memory.Options(listings=o.listings, drafts=o.drafts),  # type: ignore[arg-type]
    )
    now = utcnow()
    async with database.unit_of_work() as s:
        agent_id = (
            await s.execute(select(Agent.id).where(Agent.telegram_user_id == uid))
        ).scalar_one()
        pieces = (await s.execute(select(ContentPiece.id, ContentPiece.agent_id))).all()
        homes = (await s.execute(select(Listing.id, Listing.price))).all()
        posted = (
            await s.execute(
                select(PostSchedule.content_piece_id, PostSchedule.social_media_account_id).where(
                    PostSchedule.status == "success"
                )
            )
        ).all()
    logs = []
    span = timedelta(days=365).total_seconds()
    for i in range(o.audit_rows):
        piece_id, owner = pieces[(i * 7919) % len(pieces)]
        logs.append(
            {
                "id": uuid.uuid4(),
                "content_piece_id": piece_id,
                "agent_id": owner,
                "action_type": _ACTIONS[i % len(_ACTIONS)],
                "timestamp": now - timedelta(seconds=span * i / o.audit_rows),
                "feedback": "Make it shorter and mention the pool." if i % 4 == 0 else None,
                "from_status": ContentStatus.PENDING_APPROVAL_AGENT.value,
                "to_status": ContentStatus.APPROVED_FOR_POSTING.value,
                "version": 1,
            }
        )
    await _insert(database, ApprovalLog, logs)
    changes = []
    for i, (home_id, price) in enumerate(homes[::10]):
        base = Decimal(price or 300_000)
        for k, (days, step) in enumerate(((60, 20_000), (20, 10_000))):
            changes.append(
                {
                    "id": uuid.uuid4(),
                    "listing_id": home_id,
                    "old_price": base + step + (10_000 if k == 0 else 0),
                    "new_price": base + (10_000 if k == 0 else 0),
                    "changed_at": now - timedelta(days=days, minutes=i),
                }
            )
    await _insert(database, ListingPriceChange, changes)
    failures = [
        {
            "id": uuid.uuid4(),
            "content_piece_id": piece_id,
            "social_media_account_id": account_id,
            "scheduled_at": now - timedelta(hours=i + 1),
            "status": "failed",
            "error_message": "Instagram refused the photo: its aspect ratio is not supported.",
        }
        for i, (piece_id, account_id) in enumerate(posted[::50])
    ]
    await _insert(database, PostSchedule, failures)
    async with database.unit_of_work() as s:
        counts = {
            "agents": (await s.execute(select(func.count()).select_from(Agent))).scalar_one(),
            "listings": (await s.execute(select(func.count()).select_from(Listing))).scalar_one(),
            "drafts": (
                await s.execute(select(func.count()).select_from(ContentPiece))
            ).scalar_one(),
            "posts": (await s.execute(select(func.count()).select_from(PostSchedule))).scalar_one(),
            "audit_rows": (
                await s.execute(select(func.count()).select_from(ApprovalLog))
            ).scalar_one(),
            "price_changes": len(changes),
        }
        agent_drafts = (
            await s.execute(
                select(func.count())
                .select_from(ContentPiece)
                .where(ContentPiece.agent_id == agent_id)
            )
        ).scalar_one()
    return {
        "counts": counts,
        "agent_drafts": agent_drafts,
        "tokens": {
            "admin": await _session_for(database, is_admin=True),
            "agent": await _session_for(database, agent_id=agent_id),
        },
    }


async def settle(url: str, backend: str) -> None:
    """The tables as a running database keeps them: statistics, and on PostgreSQL the
    visibility map that autovacuum maintains (index-only scans need it)."""
    async with open_database(url) as database, database.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE"))


# --------------------------------------------------------------------------------------
# The web server (a child process)
# --------------------------------------------------------------------------------------


def _child_main(conn: Connection, url: str) -> None:
    quiet_logging()
    try:
        asyncio.run(_child(conn, url))
    except Exception:
        conn.send(("error", traceback.format_exc()))


async def _child(conn: Connection, url: str) -> None:
    from web.app import build_web_app
    from web.dashboard import Dashboard
    from web.server import WebServer

    async with open_database(url) as database:
        app = build_web_app(
            probes={},
            dashboard=Dashboard(database=lambda: database, default_timezone="America/New_York"),
        )
        server = WebServer(app, "127.0.0.1", 0)
        await server.start()
        try:
            conn.send(("ok", server.port))
            await asyncio.to_thread(conn.recv)  # "stop"
        finally:
            await server.stop()
    conn.send(("ok", None))


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise BenchError("cannot read the server's memory from /proc")


class ServerProcess:
    """The dashboard's web server in its own process."""

    def __init__(self, url: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_child_main, args=(child, url), daemon=True)

    async def start(self, wait_s: float) -> int:
        self.process.start()
        if not await asyncio.to_thread(self._conn.poll, wait_s):
            raise BenchError("the web server did not start")
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"web server failed:\n{value}")
        return int(value)

    async def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError, EOFError):
                self._conn.send("stop")
            await asyncio.to_thread(self.process.join, 30)
        if self.process.is_alive():
            self.process.kill()


# --------------------------------------------------------------------------------------
# Measuring (this process)
# --------------------------------------------------------------------------------------


async def _get(http: aiohttp.ClientSession, url: str, token: str) -> tuple[float, float, str]:
    """(server ms, client ms, body) of one page."""
    started = time.perf_counter()
    async with http.get(url, headers={"Cookie": f"{SESSION_COOKIE}={token}"}) as response:
        body = await response.text()
        if response.status != 200:
            raise BenchError(f"{url} answered {response.status}: {body[:300]}")
        timing = response.headers.get("Server-Timing", "")
    client_ms = (time.perf_counter() - started) * 1000
    found = re.search(r"dur=([\d.]+)", timing)
    if not found:
        raise BenchError(f"{url} has no Server-Timing header")
    return float(found.group(1)), client_ms, body


def _next_page(body: str) -> str | None:
    found = re.search(r'<a class="next" href="([^"]+)"', body)
    return found.group(1).replace("&amp;", "&") if found else None


async def _pages(http: aiohttp.ClientSession, base: str, token: str) -> list[str]:
    """The pages to time for one user, including a second page of the long lists."""
    paths = [
        "/",
        "/drafts",
        "/drafts?status=all",
        "/drafts?status=posted_successfully",
        "/schedule",
        "/posts",
        "/posts?show=failed",
        "/audit",
        "/audit?action=rejected&from=2026-01-01",
        "/listings",
        "/listings?status=active&q=sw",
    ]
    _, _, body = await _get(http, base + "/drafts?status=all", token)
    draft = re.search(r'href="/drafts/([0-9a-f-]{36})"', body)
    if draft:
        paths.append(f"/drafts/{draft.group(1)}")
    for path in ("/drafts?status=all", "/audit", "/listings"):
        _, _, body = await _get(http, base + path, token)
        following = _next_page(body)
        if following:
            paths.append(following)
    return paths


async def time_pages(base: str, tokens: dict[str, str], o: Options) -> dict[str, Any]:
    """Server and client times of every page for each user."""
    out: dict[str, Any] = {}
    worst = 0.0
    async with aiohttp.ClientSession() as http:
        for who, token in tokens.items():
            for path in await _pages(http, base, token):
                server, client = [], []
                for i in range(o.warmup + o.requests):
                    s_ms, c_ms, _ = await _get(http, base + path, token)
                    if i >= o.warmup:
                        server.append(s_ms / 1000)
                        client.append(c_ms / 1000)
                key = f"{who} {re.sub(r'after=[^&]+', 'after=…', path)}"
                out[key] = {"server_ms": _summary(server), "client_ms": _summary(client)}
                worst = max(worst, out[key]["server_ms"]["p95"])
    return {"pages": out, "worst_p95_server_ms": worst}


def _summary(seconds: list[float]) -> dict[str, float]:
    """p50, p95 and max in milliseconds (nearest rank)."""
    ordered = sorted(seconds)
    return {
        "p50": round(percentile(ordered, 0.50) * 1000, 1),
        "p95": round(percentile(ordered, 0.95) * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


async def time_csv(base: str, token: str, pid: int) -> dict[str, Any]:
    """Download the whole audit CSV, sampling the server's memory meanwhile."""
    before = _rss_mb(pid)
    peak = before
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mb(pid))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    rows = size = 0
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=120)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.get(
            base + "/audit.csv",
            headers={"Cookie": f"{SESSION_COOKIE}={token}", "Accept-Encoding": "identity"},
        ) as response,
    ):
        if response.status != 200:
            raise BenchError(f"/audit.csv answered {response.status}")
        async for chunk in response.content.iter_any():
            size += len(chunk)
            rows += chunk.count(b"\r\n")
    seconds = time.perf_counter() - started
    done.set()
    await sampler
    return {
        "rows": rows - 1,  # the header
        "megabytes": round(size / 1e6, 1),
        "seconds": round(seconds, 2),
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "rss_growth_mb": round(peak - before, 1),
        "rss_after_mb": _rss_mb(pid),
    }


# --------------------------------------------------------------------------------------
# One backend
# --------------------------------------------------------------------------------------


async def run_backend(backend: str, pg_url: str | None, o: Options) -> dict[str, Any]:
    """Seed, start the server, time the pages and the CSV; one JSON section."""
    with tempfile.TemporaryDirectory(prefix="rltr-bench-dashboard-") as tmp:
        url = await fresh_database_url(backend, pg_url, Path(tmp))
        t0 = time.monotonic()
        async with open_database(url) as database:
            seeded = await seed(database, o)
        seconds = round(time.monotonic() - t0, 1)
        await settle(url, backend)
        server = ServerProcess(url)
        try:
            port = await server.start(o.timeout)
            base = f"http://127.0.0.1:{port}"
            pages = await time_pages(base, seeded["tokens"], o)
            assert server.process.pid is not None
            csv_runs = [
                await time_csv(base, seeded["tokens"]["admin"], server.process.pid)
                for _ in range(2)
            ]
        finally:
            await server.stop()
    slowest_csv = max(run["seconds"] for run in csv_runs)
    return {
        "seeded": seeded["counts"]
        | {"agent_user_drafts": seeded["agent_drafts"], "seconds": seconds},
        **pages,
        "csv": csv_runs,
        "targets": {
            "page_p95_server_ms": PAGE_TARGET_MS,
            "csv_seconds": CSV_TARGET_S,
            "pages_meet_target": pages["worst_p95_server_ms"] < PAGE_TARGET_MS,
            "csv_meets_target": slowest_csv < CSV_TARGET_S,
        },
    }


async def run(
    o: Options, *, backend: str = "both", database_url: str | None = None
) -> dict[str, Any]:
    """The whole bench: one section per backend."""
    pg_url = postgres_url(database_url)
    result: dict[str, Any] = {"bench": "dashboard", "machine": machine(), "options": o.__dict__}
    for name in backends(backend, pg_url):
        result[name] = await run_backend(name, pg_url, o)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line entry: parse options, run, print JSON."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    p.add_argument("--listings", type=int, default=Options.listings)
    p.add_argument("--drafts", type=int, default=Options.drafts)
    p.add_argument("--audit-rows", type=int, default=Options.audit_rows)
    p.add_argument("--requests", type=int, default=Options.requests)
    p.add_argument("--backend", choices=("both", "postgresql", "sqlite"), default="both")
    p.add_argument("--database-url", default=None, help="PostgreSQL URL (throw-away database)")
    args = p.parse_args(argv)
    quiet_logging()
    opts = Options(
        listings=args.listings,
        drafts=args.drafts,
        audit_rows=args.audit_rows,
        requests=args.requests,
    )
    try:
        emit(asyncio.run(run(opts, backend=args.backend, database_url=args.database_url)))
    except BenchError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
