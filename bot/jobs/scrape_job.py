"""The scrape job: one pass of the builder's site every SCRAPE_INTERVAL_MINUTES.

The job and the admin's /scrape share `run_now`, so both use the bot's listing events
(drafts for new homes and price drops) and the process-wide pass lock.
"""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.app_type import App
from bot.jobs.job_options import NO_OVERLAP
from bot.runtime import Runtime, runtime
from services.scraping.scrape_pass import (
    ProgressCallback,
    ScrapeAlreadyRunning,
    ScrapeRunningElsewhere,
    ScrapeSummary,
    run_scrape_pass,
)
from services.settings import Settings

log = logging.getLogger(__name__)

FIRST_RUN_DELAY_S = 20.0
"""The first pass starts shortly after the bot does, so a fresh install fills up at once."""


async def run_now(rt: Runtime, progress: ProgressCallback | None = None) -> ScrapeSummary:
    """One pass with the bot's settings and listing events.

    Raises `ScrapeAlreadyRunning` when a pass is running in this process.
    """
    return await run_scrape_pass(
        rt.database,
        base_url=rt.settings.listings_base,
        fetcher_factory=rt.fetcher_factory,
        progress=progress,
        events=rt.listing_events,
        deadline_s=rt.settings.scrape_pass_deadline_minutes * 60.0,
    )


async def scrape_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run one pass and log its summary as one structured line."""
    try:
        summary = await run_now(runtime(context))
    except ScrapeRunningElsewhere:
        log.info("scrape skipped: another process is scraping")
        return
    except ScrapeAlreadyRunning:
        log.info("scrape skipped: a pass started by /scrape is still running")
        return
    log.info("scrape pass", extra=summary.log_fields())


def schedule(app: App) -> None:
    """Register the scrape job every SCRAPE_INTERVAL_MINUTES (never overlapping itself)."""
    jq = app.job_queue
    assert jq is not None, "python-telegram-bot[job-queue] is required"
    settings: Settings = app.bot_data["settings"]
    jq.run_repeating(
        scrape_job,
        interval=settings.scrape_interval_minutes * 60,
        first=FIRST_RUN_DELAY_S,
        name="scrape",
        job_kwargs=NO_OVERLAP,
    )
