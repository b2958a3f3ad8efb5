"""The regenerate job: rewrites drafts waiting in `pending_ai_revision` (leftovers from a
restart, or retries after a failed rewrite) and writes drafts that should exist but do not."""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.app_type import App
from bot.jobs.job_options import NO_OVERLAP
from bot.runtime import runtime
from services.drafting.listing_drafts import DraftMaker

log = logging.getLogger(__name__)

REGENERATE_INTERVAL_S = 10.0
BACKFILL_INTERVAL_S = 300.0


def _maker(context: ContextTypes.DEFAULT_TYPE) -> DraftMaker | None:
    return runtime(context).draft_maker


async def regenerate_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Rewrite every draft still waiting for its new version, and push the results."""
    maker = _maker(context)
    if maker is None:
        return
    done = await maker.regenerate()
    if done:
        log.info("regenerated drafts", extra={"count": len(done)})


async def backfill_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Write the drafts a failed writer or a crash left out (new homes, price drops)."""
    maker = _maker(context)
    if maker is not None:
        await maker.backfill()


def schedule(app: App) -> None:
    """Register the regenerate and draft backfill jobs."""
    jq = app.job_queue
    assert jq is not None, "python-telegram-bot[job-queue] is required"
    jq.run_repeating(
        regenerate_job,
        interval=REGENERATE_INTERVAL_S,
        first=2.0,
        name="regenerate",
        job_kwargs=NO_OVERLAP,
    )
    jq.run_repeating(
        backfill_job,
        interval=BACKFILL_INTERVAL_S,
        first=30.0,
        name="draft_backfill",
        job_kwargs=NO_OVERLAP,
    )
