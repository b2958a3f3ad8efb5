"""The reminder job: one nudge for each draft the agent has not answered."""

from __future__ import annotations

from telegram.ext import Application, ContextTypes

from bot.jobs.job_options import NO_OVERLAP
from bot.runtime import runtime
from services.notifying.reminders import send_reminders

REMINDER_INTERVAL_S = 300.0


async def reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the reminders that are due (quiet hours permitting)."""
    rt = runtime(context)
    await send_reminders(
        rt.database,
        rt.notifier,
        default_timezone=rt.settings.default_timezone,
        default_hours=rt.settings.draft_reminder_hours,
    )


def schedule(app: Application) -> None:  # type: ignore[type-arg]
    """Register the reminder job."""
    jq = app.job_queue
    assert jq is not None, "python-telegram-bot[job-queue] is required"
    jq.run_repeating(
        reminder_job,
        interval=REMINDER_INTERVAL_S,
        first=60.0,
        name="remind",
        job_kwargs=NO_OVERLAP,
    )
