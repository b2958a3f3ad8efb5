"""One scrape pass end to end: crawl the builder's site, then write what changed.

The pass reads what it knows (one SELECT), crawls with no transaction open, then saves
the fetched homes in batches, each batch one short unit of work: listings upserted in
one statement, price history, assignment of new homes to agents, notifications, and the
withdrawal of drafts for homes that were sold. A home's lastmod is written only with
the data it describes, so a pass that dies half-way leaves every saved batch whole and
the next pass fetches the rest again. Homes missing from a sitemap that was read
completely are counted last; on the second consecutive miss they go `off_market`.

Listing events (new home, price change, sold, any status change, each recorded in the
listing's status history) go to a `ListingEvents` hook after each batch commits; the drafts
service implements it. Nothing here knows Telegram.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from db.base import utcnow
from db.process_locks import SCRAPE_LOCK, try_advisory_lock
from db.repositories import scraping as repo
from db.status import ListingStatus
from services.context import Database
from services.errors import ConflictError
from services.scraping.crawl import crawl
from services.scraping.fetcher import FetchCache, PoliteFetcher
from services.scraping.listing_events import ListingEvents, emit
from services.scraping.listing_saving import SavedBatch, merge_batch, missing_required, save_batch
from services.scraping.missing_homes import settle_missing
from services.scraping.models import CrawlFailure, CrawlProgress, CrawlResult, ParsedHome
from services.settings import DEFAULT_SCRAPE_PASS_DEADLINE_MINUTES

log = logging.getLogger(__name__)

BATCH_SIZE = 200
"""Homes saved per unit of work (≈ 5,000 bound parameters in the upsert)."""
ALREADY_RUNNING = "A scrape pass is already running; wait for its summary, then try again."
RUNNING_ELSEWHERE = (
    "Another process is scraping the builder's site; its summary is in that process's log."
)

ScrapePhase = Literal["sitemap", "homes", "saving", "done"]


class ScrapeAlreadyRunning(ConflictError):
    """Another pass holds the lock in this process."""


class ScrapeRunningElsewhere(ScrapeAlreadyRunning):
    """Another process sharing the database is running a pass."""


@dataclass(frozen=True)
class ScrapeProgress:
    """Progress of a pass: `done` of `total` items in `phase`.

    Phases: `sitemap` (0/1 then 1/1), `homes` (pages fetched), `saving` (homes written),
    `done` (once, at the end).
    """

    phase: ScrapePhase
    done: int
    total: int


ProgressCallback = Callable[[ScrapeProgress], Awaitable[None] | None]
FetcherFactory = Callable[[str], PoliteFetcher]
"""Makes the pass's fetcher for the builder's base URL (the only site it may fetch from)."""


@dataclass(frozen=True)
class ScrapeSummary:
    """What one pass did.

    `checked`: homes in the sitemap; `unchanged`: homes not fetched (same lastmod) or
    fetched with identical content; `sold`: homes that left the market in this pass,
    `off_market` of them because they vanished from the sitemap; `failed`: pages or
    sitemaps that could not be used (details in `failures`); `requests`: every HTTP
    request made, robots.txt and retries included. `deadline_reached`: the pass stopped
    at its deadline (`deadline_s`) after `fetched` of the `to_fetch` homes to fetch.
    """

    checked: int
    new: int
    changed: int
    unchanged: int
    price_changes: int
    sold: int
    failed: int
    requests: int
    duration_s: float
    failures: list[CrawlFailure] = field(default_factory=list)
    off_market: int = 0
    sitemap_ok: bool = True
    warnings: list[CrawlFailure] = field(default_factory=list)
    deadline_reached: bool = False
    deadline_s: float | None = None
    to_fetch: int = 0
    fetched: int = 0

    @property
    def site_unreachable(self) -> bool:
        """The sitemap could not be read at all, so nothing was checked."""
        return not self.sitemap_ok and self.checked == 0

    def deadline_note(self) -> str | None:
        """One sentence when the pass stopped at its deadline, else None."""
        if not self.deadline_reached:
            return None
        limit = "its deadline"
        if self.deadline_s is not None and self.deadline_s >= 60:
            limit = f"the {round(self.deadline_s / 60)}-minute deadline"
        if self.site_unreachable:
            return f"Stopped at {limit} while reading the sitemap; the next pass starts over."
        return (
            f"Stopped at {limit} after {self.fetched:,} of {self.to_fetch:,} homes; "
            "the rest will be fetched next pass."
        )

    def log_fields(self) -> dict[str, Any]:
        """The counters as flat key/values for one structured log line."""
        return {
            "checked": self.checked,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "price_changes": self.price_changes,
            "sold": self.sold,
            "off_market": self.off_market,
            "failed": self.failed,
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "sitemap_ok": self.sitemap_ok,
            "deadline_reached": self.deadline_reached,
            "fetched": self.fetched,
            "to_fetch": self.to_fetch,
        }


_PASS_LOCK = asyncio.Lock()
_FETCH_CACHES: dict[str, FetchCache] = {}


def scrape_running(lock: asyncio.Lock | None = None) -> bool:
    """Whether a pass is running in this process."""
    return (lock or _PASS_LOCK).locked()


def default_fetcher(base_url: str) -> PoliteFetcher:
    """A polite fetcher for `base_url` whose robots.txt rules and sitemap validators outlive
    the pass.

    Sharing the cache per site is what makes an unchanged site cost only the sitemap
    request(s) on the next scheduled pass.
    """
    cache = _FETCH_CACHES.setdefault(base_url.rstrip("/"), FetchCache())
    return PoliteFetcher(base_url, cache=cache)


class _Reporter:
    """Calls the progress callback (sync or async); a failing callback never stops the pass."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._failed = False

    async def __call__(self, phase: ScrapePhase, done: int, total: int) -> None:
        if self._callback is None:
            return
        try:
            maybe = self._callback(ScrapeProgress(phase=phase, done=done, total=total))
            if inspect.isawaitable(maybe):
                await maybe
        except Exception:
            if not self._failed:
                log.warning("scrape progress callback failed; the pass goes on", exc_info=True)
            self._failed = True

    async def crawl(self, progress: CrawlProgress) -> None:
        if progress.phase != "done":  # the pass is done only once it is saved
            await self(progress.phase, progress.done, progress.total)


def _acquire(lock: asyncio.Lock | None) -> asyncio.Lock:
    guard = lock if lock is not None else _PASS_LOCK
    if guard.locked():
        raise ScrapeAlreadyRunning(ALREADY_RUNNING)
    return guard


@asynccontextmanager
async def _across_processes(database: Database) -> AsyncIterator[None]:
    """The pass lock shared by every process on the database, held for the whole pass."""
    async with try_advisory_lock(database.engine, SCRAPE_LOCK) as held:
        if not held:
            raise ScrapeRunningElsewhere(RUNNING_ELSEWHERE)
        yield


async def run_scrape_pass(
    database: Database,
    *,
    base_url: str,
    fetcher_factory: FetcherFactory | None = None,
    progress: ProgressCallback | None = None,
    events: ListingEvents | None = None,
    now: datetime | None = None,
    lock: asyncio.Lock | None = None,
    batch_size: int = BATCH_SIZE,
    deadline_s: float | None = DEFAULT_SCRAPE_PASS_DEADLINE_MINUTES * 60.0,
) -> ScrapeSummary:
    """Crawl `base_url` and bring the listings up to date; never two passes at once.

    `fetcher_factory(base_url)` makes the pass's fetcher (default: `default_fetcher`);
    `now` stamps every row written (default: the current time). Raises
    `ScrapeAlreadyRunning` at once when a pass holds `lock` (default: the process lock).
    Failed pages do not raise: they are counted in the summary. After `deadline_s`
    (None: no deadline) fetching stops; what was fetched is saved, and the homes not
    reached keep their old lastmod, so the next pass fetches them.
    """
    guard = _acquire(lock)
    async with guard, _across_processes(database):
        started = time.monotonic()
        report = _Reporter(progress)
        known = await _known(database)
        # An off-market home that reappears is fetched again to learn its badge.
        lastmods = {
            sid: st.source_lastmod
            for sid, st in known.items()
            if st.status != ListingStatus.OFF_MARKET.value
        }
        factory = fetcher_factory or default_fetcher
        async with factory(base_url) as fetcher:
            result = await crawl(
                fetcher, base_url, lastmods, progress=report.crawl, deadline_s=deadline_s
            )
        summary = await _save_result(
            database, result, known, report, events, now or utcnow(), batch_size, started
        )
        return replace(summary, deadline_s=deadline_s)


async def save_crawl_result(
    database: Database,
    result: CrawlResult,
    *,
    progress: ProgressCallback | None = None,
    events: ListingEvents | None = None,
    now: datetime | None = None,
    lock: asyncio.Lock | None = None,
    batch_size: int = BATCH_SIZE,
) -> ScrapeSummary:
    """The writing half of a pass, for a crawl made elsewhere (e.g. one crawl, two databases).

    Takes the same lock as `run_scrape_pass`; `duration_s` covers the writing only.
    """
    guard = _acquire(lock)
    async with guard, _across_processes(database):
        started = time.monotonic()
        known = await _known(database)
        return await _save_result(
            database,
            result,
            known,
            _Reporter(progress),
            events,
            now or utcnow(),
            batch_size,
            started,
        )


async def _known(database: Database) -> dict[str, repo.ListingState]:
    async with database.unit_of_work() as session:
        return await repo.all_listing_states(session)


async def _save_result(
    database: Database,
    result: CrawlResult,
    known: dict[str, repo.ListingState],
    report: _Reporter,
    events: ListingEvents | None,
    now: datetime,
    batch_size: int,
    started: float,
) -> ScrapeSummary:
    failures = list(result.failures)
    by_id: dict[str, ParsedHome] = {}  # one row per source_id: ON CONFLICT needs it
    for home in result.homes:
        missing = missing_required(home)
        if missing:
            reason = f"the page shows no {', '.join(missing)}; not saved"
            log.warning("scrape: %s skipped: %s", home.source_url, reason)
            failures.append(CrawlFailure(home.source_url, reason))
        else:
            by_id[home.source_id] = home
    homes = list(by_id.values())

    total = SavedBatch()
    size = max(1, batch_size)
    await report("saving", 0, len(homes))
    for start in range(0, len(homes), size):
        batch = await save_batch(database, homes[start : start + size], now)
        merge_batch(total, batch)
        await emit(
            events,
            batch.announced_new,
            batch.announced_prices,
            batch.left_market,
            batch.status_changes,
        )
        await report("saving", min(start + size, len(homes)), len(homes))
    sold = len(total.left_market)

    gone, gone_changes = await settle_missing(
        database, known, result.entries, result.sitemap_ok, total.written, now
    )
    await emit(events, [], [], gone, gone_changes)
    await report("done", len(homes), len(homes))

    summary = ScrapeSummary(
        checked=len(result.entries),
        new=total.new,
        changed=total.changed,
        unchanged=result.unchanged + total.unchanged,
        price_changes=total.price_changes,
        sold=sold + len(gone),
        off_market=len(gone),
        failed=len(failures),
        requests=result.requests_made,
        duration_s=time.monotonic() - started,
        failures=failures,
        sitemap_ok=result.sitemap_ok,
        warnings=list(result.warnings),
        deadline_reached=result.deadline_reached,
        to_fetch=result.to_fetch,
        fetched=result.fetched,
    )
    log.debug("scrape pass finished", extra=summary.log_fields())
    return summary
