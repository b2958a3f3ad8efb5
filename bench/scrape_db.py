"""Scrape benchmark WITH the database: prints one JSON object.

Against a local fake builder site (aiohttp on 127.0.0.1, own thread) with a 2,000-home
sitemap, on SQLite and, when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, PostgreSQL
(in a scratch database created next to the one named, dropped afterwards):

  1. first pass: every home fetched and parsed ONCE (parsing costs ~30-60 ms a page, so
     crawling twice would not fit the 2-minute bench budget), then that crawl saved into
     each database with `save_crawl_result` (upserts, assignment to 3 agents, notifications);
  2. second pass after 1 % of the homes changed (price and lastmod): a real
     `run_scrape_pass` per database with the production fetcher settings; its requests
     must be the sitemap + the changed homes, target < 5 s;
  3. third pass of the unchanged site: sitemap only, and no INSERT/UPDATE at all.

SQL statements are counted with a `before_cursor_execute` listener.

Run: .venv/bin/python bench/scrape_db.py [--homes 2000] [--changed-pct 1] [--delay 0.25]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from db import migrate  # noqa: E402
from db.models import AgentListing, Listing, Notification  # noqa: E402
from db.repositories import agents as agents_repo  # noqa: E402
from db.session import create_engine, create_sessionmaker  # noqa: E402
from services.context import Database  # noqa: E402
from services.crypto import TokenCipher, generate_key  # noqa: E402
from services.scraping.crawl import crawl  # noqa: E402
from services.scraping.fetcher import FetchCache, PoliteFetcher  # noqa: E402
from services.scraping.models import CrawlResult  # noqa: E402
from services.scraping.scrape_pass import (  # noqa: E402
    ScrapeProgress,
    ScrapeSummary,
    run_scrape_pass,
    save_crawl_result,
)
from tests.fakes.builder_site import FakeBuilderSite, threaded_site  # noqa: E402


class SqlCounter:
    """Counts statements sent to one engine, and the writing ones among them."""

    def __init__(self) -> None:
        self.statements = 0
        self.writes = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements += 1
        if statement.lstrip()[:6].upper() in {"INSERT", "UPDATE", "DELETE"}:
            self.writes += 1


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[SqlCounter]:
    counter = SqlCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counter)


class SaveClock:
    """Progress callback noting when the pass started saving (the crawl is over then)."""

    def __init__(self) -> None:
        self.saving_started: float | None = None

    def __call__(self, update: ScrapeProgress) -> None:
        if update.phase == "saving" and self.saving_started is None:
            self.saving_started = time.perf_counter()


async def _seed_agents(database: Database) -> None:
    from tests.factories import make_agent

    async with database.unit_of_work() as session:
        await make_agent(session)  # no areas: every home
        city = await make_agent(session)
        await agents_repo.set_service_areas(session, city.id, [("city", "Ocala")])
        community = await make_agent(session)
        await agents_repo.set_service_areas(
            session, community.id, [("community", "Oak Hammock Preserve")]
        )


async def _counts(database: Database) -> dict[str, int]:
    async with database.unit_of_work() as session:
        return {
            "listings": int(await session.scalar(select(func.count()).select_from(Listing)) or 0),
            "assignments": int(
                await session.scalar(select(func.count()).select_from(AgentListing)) or 0
            ),
            "notifications": int(
                await session.scalar(select(func.count()).select_from(Notification)) or 0
            ),
        }


def _pass_report(summary: ScrapeSummary, seconds: float, sql: SqlCounter) -> dict[str, Any]:
    return {
        "requests": summary.requests,
        "checked": summary.checked,
        "new": summary.new,
        "changed": summary.changed,
        "unchanged": summary.unchanged,
        "price_changes": summary.price_changes,
        "failed": summary.failed,
        "seconds": round(seconds, 3),
        "sql_statements": sql.statements,
        "sql_writes": sql.writes,
    }


async def _bench_backend(
    name: str,
    url: str,
    site: FakeBuilderSite,
    crawled: CrawlResult,
    cache: FetchCache,
    changed: list[str],
    args: argparse.Namespace,
    apply_changes: bool,
) -> dict[str, Any]:
    await migrate.upgrade(url)
    engine = create_engine(url)
    database = Database(engine, create_sessionmaker(engine), TokenCipher([generate_key()]))
    try:
        await _seed_agents(database)

        with counting(engine) as sql:
            started = time.perf_counter()
            first = await save_crawl_result(database, crawled)
            save_s = time.perf_counter() - started
        first_report = {
            **_pass_report(first, save_s, sql),
            "requests": crawled.requests_made,
            "crawl_seconds_shared": round(crawled.duration_s, 3),
            "save_seconds": round(save_s, 3),
            **await _counts(database),
        }

        if apply_changes:
            for i, slug in enumerate(changed):
                site.set_price(slug, f"${199_990 + i * 1000:,}")  # also moves its <lastmod>

        def fetcher(base_url: str) -> PoliteFetcher:
            return PoliteFetcher(
                base_url, concurrency=args.concurrency, delay_s=args.delay, cache=cache
            )

        clock = SaveClock()
        with counting(engine) as sql:
            started = time.perf_counter()
            second = await run_scrape_pass(
                database, base_url=site.base_url, fetcher_factory=fetcher, progress=clock
            )
            second_s = time.perf_counter() - started
        saving_s = time.perf_counter() - (clock.saving_started or started)
        expected = 1 + len(changed)

        with counting(engine) as sql3:
            started = time.perf_counter()
            third = await run_scrape_pass(database, base_url=site.base_url, fetcher_factory=fetcher)
            third_s = time.perf_counter() - started

        return {
            "backend": name,
            "first_pass": first_report,
            "second_pass": {
                **_pass_report(second, second_s, sql),
                "db_seconds": round(saving_s, 3),
                "changed_homes": len(changed),
                "expected_requests": expected,
                "requests_ok": second.requests == expected and second.changed == len(changed),
                "target_seconds": 5.0,
                "within_target": second_s < 5.0,
            },
            "third_pass_unchanged": {
                **_pass_report(third, third_s, sql3),
                "no_writes": sql3.writes == 0,
            },
        }
    finally:
        await engine.dispose()


@contextmanager
def _scratch_postgres(url: str) -> Iterator[str]:
    """A fresh database beside the one `url` names; dropped afterwards."""
    name = f"rltr_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, null_pool=True)

    async def run(sql: str) -> None:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(admin.dispose())


async def _crawl_all(site: FakeBuilderSite, cache: FetchCache, args: argparse.Namespace) -> Any:
    async with PoliteFetcher(
        site.base_url, concurrency=args.concurrency, delay_s=0.0, cache=cache
    ) as fetcher:
        return await crawl(fetcher, site.base_url, {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--homes", type=int, default=2000)
    parser.add_argument("--changed-pct", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--delay", type=float, default=0.25, help="politeness delay of passes 2 and 3 (s)"
    )
    args = parser.parse_args(argv)
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")

    results: list[dict[str, Any]] = []
    with threaded_site(sitemap_mode="urlset", include_fixtures=False) as site:
        slugs = site.add_synthetic_homes(args.homes)
        cache = FetchCache()
        crawled = asyncio.run(_crawl_all(site, cache, args))
        count = max(1, round(args.homes * args.changed_pct / 100))
        changed = random.Random(42).sample(slugs, count)
        with tempfile.TemporaryDirectory(prefix="rltr-bench-") as tmp:
            sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            results.append(
                asyncio.run(
                    _bench_backend("sqlite", sqlite_url, site, crawled, cache, changed, args, True)
                )
            )
        if pg_url:
            with _scratch_postgres(pg_url) as url:
                results.append(
                    asyncio.run(
                        _bench_backend(
                            "postgresql", url, site, crawled, cache, changed, args, False
                        )
                    )
                )
    report = {
        "homes_in_sitemap": len(crawled.entries),
        "first_crawl": {
            "requests": crawled.requests_made,
            "homes_fetched": len(crawled.homes),
            "failures": len(crawled.failures),
            "seconds": round(crawled.duration_s, 3),
        },
        "backends": results,
        "settings": {
            "agents": "3 (no areas, city Ocala, community Oak Hammock Preserve): every home "
            "is assigned to all three and announced to each",
            "passes_2_3_fetcher": {"concurrency": args.concurrency, "delay_s": args.delay},
            "first_crawl_fetcher": {"concurrency": args.concurrency, "delay_s": 0.0},
            "cache": "one FetchCache across passes, as in the bot process (robots.txt read "
            "once; the sitemap asked for conditionally)",
            "postgresql": "scratch database" if pg_url else "skipped (no BENCH_DATABASE_URL)",
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
