"""The in-process jobs on PTB's job queue (APScheduler); each is a thin call into services.

One module per job: deliver (drafts and notifications), scrape, regenerate, publish, remind, digest.
"""

from __future__ import annotations

from bot.app_type import App
from bot.jobs import (
    delivery_job,
    digest_job,
    publish_job,
    regenerate_job,
    reminder_job,
    scrape_job,
)
from bot.jobs.job_metrics import meter_all


def schedule_jobs(app: App) -> None:
    """Register every recurring job."""
    delivery_job.schedule(app)
    publish_job.schedule(app)
    regenerate_job.schedule(app)
    reminder_job.schedule(app)
    digest_job.schedule(app)
    scrape_job.schedule(app)
    meter_all(app)
