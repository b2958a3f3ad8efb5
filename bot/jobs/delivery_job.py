"""The delivery job: pushes queued drafts and notifications to agents."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.jobs.job_options import NO_OVERLAP
from bot.runtime import runtime
from services.notifying import delivery

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_S = 5.0


async def deliver_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Push drafts and notifications that are due (quiet hours permitting)."""
    rt = runtime(context)
    tz = rt.settings.default_timezone
    drafts = await delivery.deliver_drafts(
        rt.database,
        rt.notifier,
        default_timezone=tz,
        print_flyer=rt.print_flyer,
    )
    notes = await delivery.deliver_notifications(rt.database, rt.notifier, default_timezone=tz)
    if drafts.elsewhere or notes.elsewhere:
        log.debug("delivery round skipped: another process is sending")
    if drafts.sent or notes.sent or drafts.failed or notes.failed:
        log.info(
            "delivery round",
            extra={
                "drafts_sent": drafts.sent,
                "notifications_sent": notes.sent,
                "failed": drafts.failed + notes.failed,
            },
        )


def schedule(app: Application) -> None:  # type: ignore[type-arg]
    """Register the delivery job."""
    jq = app.job_queue
    assert jq is not None, "python-telegram-bot[job-queue] is required"
    jq.run_repeating(
        deliver_job, interval=DELIVERY_INTERVAL_S, first=1.0, name="deliver", job_kwargs=NO_OVERLAP
    )
