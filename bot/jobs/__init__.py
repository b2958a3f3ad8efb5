"""The in-process jobs on PTB's job queue (APScheduler); each is a thin call into services.

One module per job: deliver (drafts and notifications), scrape, regenerate, publish.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.jobs import deliver, publish, regenerate, scrape
from bot.jobs.metered import meter_all


def schedule_jobs(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register every recurring job."""
    deliver.schedule(app)
    publish.schedule(app)
    regenerate.schedule(app)
    scrape.schedule(app)
    meter_all(app)
