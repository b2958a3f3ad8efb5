"""One scrape pass: read the sitemap, fetch and parse only new or changed homes."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from services.scraping.fetcher import FetchError, HttpStatusError, PoliteFetcher
from services.scraping.models import (
    CrawlFailure,
    CrawlPhase,
    CrawlProgress,
    CrawlResult,
    ParsedHome,
    SitemapEntry,
)
from services.scraping.parser import ParseError
from services.scraping.parser_process import PageParser, pass_parser
from services.scraping.sitemap import SITEMAP_PATH, SitemapRead, read_sitemap

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[CrawlProgress], Awaitable[None] | None]
T = TypeVar("T")


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were stored as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def needs_fetch(entry: SitemapEntry, known_lastmods: Mapping[str, datetime | None]) -> bool:
    """A home is fetched when it is new, or its lastmod changed or is unknown on either side."""
    if entry.source_id not in known_lastmods:
        return True
    known = known_lastmods[entry.source_id]
    if known is None or entry.lastmod is None:
        return True
    return _utc(known) != entry.lastmod


@dataclass(frozen=True)
class _Outcome:
    home: ParsedHome | None = None
    failure: CrawlFailure | None = None
    warning: CrawlFailure | None = None


class _Reporter:
    """Calls the progress callback (sync or async); a failing callback never stops the pass."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._failed = False

    async def __call__(self, done: int, total: int, phase: CrawlPhase) -> None:
        if self._callback is None:
            return
        progress = CrawlProgress(done=done, total=total, phase=phase)
        try:
            maybe = self._callback(progress)
            if inspect.isawaitable(maybe):
                await maybe
        except Exception:
            if not self._failed:
                logger.warning("scrape progress callback failed; the pass goes on", exc_info=True)
            self._failed = True


async def _fetch_home(fetcher: PoliteFetcher, entry: SitemapEntry, parse: PageParser) -> _Outcome:
    try:
        result = await fetcher.fetch(entry.url)
    except FetchError as exc:
        status = exc.status if isinstance(exc, HttpStatusError) else None
        return _Outcome(failure=CrawlFailure(entry.url, exc.reason, status))
    decoded = result.decode()
    try:
        home = await parse(decoded.text, entry.url)  # CPU work: off the bot's event loop
    except ParseError as exc:
        return _Outcome(failure=CrawlFailure(entry.url, f"not understood: {exc}"))
    except Exception as exc:  # a parser bug on one page must not end the pass
        logger.debug("parser crashed on %s", entry.url, exc_info=True)
        return _Outcome(failure=CrawlFailure(entry.url, f"parser error: {type(exc).__name__}"))
    home = replace(home, source_lastmod=entry.lastmod or home.page_modified)
    warning = None
    if decoded.lossy:
        warning = CrawlFailure(
            entry.url, f"bytes are not valid {result.charset or 'UTF-8'}; read as Windows-1252"
        )
    return _Outcome(home=home, warning=warning)


async def _before(deadline: float | None, work: Awaitable[T]) -> T | None:
    """`work`'s result, or None when the loop time `deadline` came first (work cancelled)."""
    timeout = asyncio.timeout_at(deadline)
    try:
        async with timeout:
            return await work
    except TimeoutError:
        if not timeout.expired():
            raise
        return None


async def crawl(
    fetcher: PoliteFetcher,
    base_url: str,
    known_lastmods: Mapping[str, datetime | None],
    progress: ProgressCallback | None = None,
    *,
    deadline_s: float | None = None,
) -> CrawlResult:
    """Run one pass against `base_url` with an open fetcher.

    `known_lastmods` maps source_id → the `source_lastmod` stored from an earlier pass.
    Homes are fetched only when new or when their sitemap lastmod differs (or is missing).
    Every failure is counted in the result and logged once with its URL; nothing raises
    for a bad page or a bad sitemap (then `sitemap_ok` is false).

    After `deadline_s` seconds the pass stops where it is (requests in flight are
    cancelled): the result holds the homes fetched so far and `deadline_reached`; the
    homes it did not reach are simply absent, so the caller records nothing for them
    and the next pass fetches them.
    """
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    deadline = None if deadline_s is None else loop.time() + deadline_s
    requests_before = fetcher.requests_made
    robots_before = fetcher.robots_requests
    report = _Reporter(progress)

    await report(0, 1, "sitemap")
    sitemap = await _before(deadline, read_sitemap(fetcher, base_url))
    stopped = sitemap is None
    if sitemap is None:
        reason = "the pass reached its deadline while reading the sitemap"
        url = f"{base_url.rstrip('/')}{SITEMAP_PATH}"
        sitemap = SitemapRead(entries=[], ok=False, failures=[CrawlFailure(url, reason)])
    sitemap_requests = (fetcher.requests_made - requests_before) - (
        fetcher.robots_requests - robots_before
    )
    await report(1, 1, "sitemap")
    failures = list(sitemap.failures)
    for failure in failures:
        logger.warning("scrape: sitemap %s failed: %s", failure.url, failure.reason)

    todo = [entry for entry in sitemap.entries if needs_fetch(entry, known_lastmods)]
    outcomes: list[_Outcome] = [_Outcome()] * len(todo)
    indexes = iter(range(len(todo)))
    done = 0
    await report(0, len(todo), "homes")

    async def worker() -> None:
        nonlocal done
        for i in indexes:  # one shared iterator: each home goes to exactly one worker
            outcome = await _fetch_home(fetcher, todo[i], parse)
            outcomes[i] = outcome
            if outcome.failure is not None:
                logger.warning("scrape: %s failed: %s", outcome.failure.url, outcome.failure.reason)
            if outcome.warning is not None:
                logger.warning(
                    "scrape: %s ingested with a caveat: %s",
                    outcome.warning.url,
                    outcome.warning.reason,
                )
            done += 1
            await report(done, len(todo), "homes")

    workers = min(fetcher.concurrency, len(todo))
    if not stopped:
        async with pass_parser(len(todo)) as parse:
            work = asyncio.gather(*(worker() for _ in range(workers)))
            finished = await _before(deadline, work)
        stopped = finished is None
        if stopped:
            logger.warning(
                "scrape: the pass reached its deadline after %d of %d homes; "
                "the rest will be fetched next pass",
                done,
                len(todo),
            )

    homes = [o.home for o in outcomes if o.home is not None]
    failures += [o.failure for o in outcomes if o.failure is not None]
    warnings = [o.warning for o in outcomes if o.warning is not None]
    result = CrawlResult(
        entries=sitemap.entries,
        homes=homes,
        failures=failures,
        requests_made=fetcher.requests_made - requests_before,
        sitemap_ok=sitemap.ok,
        duration_s=time.monotonic() - started,
        warnings=warnings,
        robots_requests=fetcher.robots_requests - robots_before,
        sitemap_requests=sitemap_requests,
        unchanged=len(sitemap.entries) - len(todo),
        deadline_reached=stopped,
        to_fetch=len(todo),
        fetched=done,
    )
    await report(len(todo), len(todo), "done")
    logger.info(
        "scrape pass: %d homes in sitemap%s, %d fetched, %d unchanged, %d failed, "
        "%d requests, %.2f s",
        len(result.entries),
        "" if result.sitemap_ok else " (sitemap incomplete)",
        len(homes),
        result.unchanged,
        len(failures),
        result.requests_made,
        result.duration_s,
    )
    return result
