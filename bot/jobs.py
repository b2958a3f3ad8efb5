"""The in-process jobs on PTB's job queue; each is a thin call into services."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.runtime import runtime
from services import delivery

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_S = 5.0
# APScheduler options: a job never overlaps itself; missed runs collapse into one.
NO_OVERLAP = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}


async def deliver_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Push drafts and notifications that are due (quiet hours permitting)."""
    rt = runtime(context)
    tz = rt.settings.default_timezone
    drafts = await delivery.deliver_drafts(rt.database, rt.notifier, default_timezone=tz)
    notes = await delivery.deliver_notifications(rt.database, rt.notifier, default_timezone=tz)
    if drafts.sent or notes.sent or drafts.failed or notes.failed:
        log.info(
            "delivery round",
            extra={
                "drafts_sent": drafts.sent,
                "notifications_sent": notes.sent,
                "failed": drafts.failed + notes.failed,
            },
        )


def schedule_jobs(app: Application) -> None:  # type: ignore[type-arg]
    """Register every recurring job."""
    jq = app.job_queue
    assert jq is not None, "python-telegram-bot[job-queue] is required"
    jq.run_repeating(
        deliver_job, interval=DELIVERY_INTERVAL_S, first=1.0, name="deliver", job_kwargs=NO_OVERLAP
    )
