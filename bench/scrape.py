"""Scrape benchmark: prints one JSON object.

Against a local fake builder site (aiohttp on 127.0.0.1, on its own thread) with a
2,000-home sitemap:
  1. a first full pass (every home fetched and parsed);
  2. a second pass after 1 % of the homes changed (price and lastmod): its requests must
     be exactly 1 sitemap request + the changed homes, and it should take < 5 s;
  3. a third pass of the unchanged site (the sitemap is answered 304);
and the parser's pages/s beside a bare `lxml.html.fromstring` of the same pages (best
of a few interleaved rounds on the thread's CPU clock), and whether every fixture home
still parses to its expected values.

Requests are every HTTP request the fetcher sent during a pass (robots.txt, sitemaps,
homes, retries, redirect hops). robots.txt is read once, in the first pass: the passes
share a FetchCache as the scheduled scrape job does.

Run: .venv/bin/python bench/scrape.py [--homes 2000] [--changed-pct 1] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402

from services.scraping.crawl import crawl  # noqa: E402
from services.scraping.fetcher import FetchCache, PoliteFetcher  # noqa: E402
from services.scraping.models import CrawlResult  # noqa: E402
from services.scraping.parser import parse_home  # noqa: E402
from tests.fakes.builder_site import (  # noqa: E402
    HOME_SLUGS,
    FakeBuilderSite,
    home_fixture,
    home_path,
    threaded_site,
)
from tests.services.scraping.expected_homes import expected_homes  # noqa: E402

TARGET_RATIO = 4.0  # PRODUCT.md §7: parsing a page costs ≤ 4× a bare lxml.html.fromstring


class LastmodStore(Protocol):
    """Where a pass's known lastmods come from and go to (memory now, the database later)."""

    async def load(self) -> dict[str, datetime | None]: ...

    async def save(self, result: CrawlResult) -> None: ...


class MemoryStore:
    """Known lastmods kept in a dict, as the database will keep them."""

    def __init__(self) -> None:
        self.lastmods: dict[str, datetime | None] = {}

    async def load(self) -> dict[str, datetime | None]:
        return dict(self.lastmods)

    async def save(self, result: CrawlResult) -> None:
        self.lastmods.update({h.source_id: h.source_lastmod for h in result.homes})


async def _pass(
    base_url: str, store: LastmodStore, cache: FetchCache, args: argparse.Namespace
) -> tuple[CrawlResult, float]:
    started = time.perf_counter()
    async with PoliteFetcher(
        base_url, concurrency=args.concurrency, delay_s=args.delay, cache=cache
    ) as fetcher:
        result = await crawl(fetcher, base_url, await store.load())
    await store.save(result)
    return result, time.perf_counter() - started


def _summary(result: CrawlResult, seconds: float) -> dict[str, Any]:
    return {
        "requests": result.requests_made,
        "robots_requests": result.robots_requests,
        "sitemap_requests": result.sitemap_requests,
        "homes_fetched": len(result.homes),
        "unchanged": result.unchanged,
        "failures": len(result.failures),
        "sitemap_ok": result.sitemap_ok,
        "seconds": round(seconds, 3),
    }


def _parser_speed(
    site: FakeBuilderSite, slugs: list[str], sample: int, rounds: int
) -> dict[str, Any]:
    """parse_home beside a bare lxml.html.fromstring of the same pages.

    The two take turns page by page, each timed on this thread's CPU clock (other
    processes on a shared machine do not count), and the best of `rounds` rounds is
    kept for each: the ratio of two bests, as little noise as one run allows.
    """
    chosen = slugs[:sample]
    pages = [(site.page_bytes(s).decode("utf-8"), site.home_url(s)) for s in chosen]
    parse_home(*pages[0])  # warm caches (compiled selectors and regexes)
    clock = time.thread_time
    ours_best = bare_best = float("inf")
    for _ in range(rounds):
        ours = bare = 0.0
        for text, url in pages:
            started = clock()
            parse_home(text, url)
            middle = clock()
            lxml.html.fromstring(text)
            ours, bare = ours + (middle - started), bare + (clock() - middle)
        ours_best, bare_best = min(ours_best, ours), min(bare_best, bare)
    return {
        "pages": len(pages),
        "rounds": rounds,
        "clock": "thread CPU time; best round of each",
        "avg_page_kb": round(sum(len(t) for t, _ in pages) / len(pages) / 1024, 1),
        "parse_home_ms_per_page": round(ours_best / len(pages) * 1000, 3),
        "parse_home_pages_per_s": round(len(pages) / ours_best, 1),
        "lxml_fromstring_pages_per_s": round(len(pages) / bare_best, 1),
        "ratio": round(ours_best / bare_best, 2),
        "target_ratio": TARGET_RATIO,
        "within_target": ours_best / bare_best <= TARGET_RATIO,
        "fixtures_as_expected": _fixtures_as_expected(),
    }


def _fixtures_as_expected() -> str:
    """How many fixture homes parse to exactly their expected values (tests/services/scraping)."""
    base = "https://holidaybuilders.com"
    expected = expected_homes(base)
    same = sum(
        1
        for slug in HOME_SLUGS
        if dataclasses.asdict(parse_home(home_fixture(slug, base), f"{base}{home_path(slug)}"))
        == expected[slug]
    )
    return f"{same}/{len(HOME_SLUGS)}"


async def _run(site: FakeBuilderSite, args: argparse.Namespace) -> dict[str, Any]:
    slugs = site.add_synthetic_homes(args.homes)
    store = MemoryStore()
    cache = FetchCache()

    first, first_s = await _pass(site.base_url, store, cache, args)

    changed = random.Random(42).sample(slugs, max(1, round(args.homes * args.changed_pct / 100)))
    for i, slug in enumerate(changed):
        site.set_price(slug, f"${199_990 + i * 1000:,}")  # also moves its <lastmod>
    second, second_s = await _pass(site.base_url, store, cache, args)
    third, third_s = await _pass(site.base_url, store, cache, args)

    expected = 1 + len(changed)
    fetched_ok = sorted(h.source_id for h in second.homes) == sorted(changed)
    return {
        "homes_in_sitemap": len(first.entries),
        "first_pass": _summary(first, first_s),
        "second_pass": {
            **_summary(second, second_s),
            "changed_homes": len(changed),
            "expected_requests": expected,
            "requests_ok": second.requests_made == expected and fetched_ok,
            "target_seconds": 5.0,
            "within_target": second_s < 5.0,
        },
        "third_pass_unchanged": _summary(third, third_s),
        "parser": _parser_speed(site, slugs, args.parse_sample, args.parse_rounds),
        "settings": {
            "concurrency": args.concurrency,
            "delay_s": args.delay,
            "sitemap": "one <urlset> at /homes-sitemap.xml",
            "known_lastmods": "memory",
            "server": "local aiohttp fake on 127.0.0.1, own thread and event loop",
            "counting": "every HTTP request the fetcher sent in the pass; robots.txt cached "
            "across passes in a shared FetchCache (read once, in the first pass)",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--homes", type=int, default=2000)
    parser.add_argument("--changed-pct", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.0, help="politeness delay (s)")
    parser.add_argument("--parse-sample", type=int, default=300)
    parser.add_argument("--parse-rounds", type=int, default=5)
    parser.add_argument("--db", metavar="URL", help="keep known lastmods in this database")
    args = parser.parse_args(argv)
    if args.db:
        print("--db is not available yet: the listings repository lands with issue 3's DB part.")
        return 2
    with threaded_site(sitemap_mode="urlset", include_fixtures=False) as site:
        report = asyncio.run(_run(site, args))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
