"""The weekly digest job: hourly, it sends the Monday digests that are due."""

from __future__ import annotations

import aiohttp
from telegram.ext import Application, ContextTypes

from bot.jobs.job_options import NO_OVERLAP
from bot.runtime import runtime
from services.notifying.weekly_digest import WeeklyDigest
from services.publishing.graph_client import GraphClient

DIGEST_INTERVAL_S = 15 * 60.0


async def digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the weekly digests due now (each agent's Monday 09:00, quiet hours permitting)."""
    rt = runtime(context)
    settings = rt.settings
    async with aiohttp.ClientSession() as session:
        graph = GraphClient(session, settings.graph_api_base_url)
        await WeeklyDigest(
            rt.database,
            rt.notifier,
            graph,
            default_timezone=settings.default_timezone,
            admin_ids=sorted(settings.admin_ids),
        ).run()


def schedule(app: Application) -> None:  # type: ignore[type-arg]
    """Register the digest job."""
    jq = app.job_queue
    assert jq is not None, "python-telegram-bot[job-queue] is required"
    jq.run_repeating(
        digest_job, interval=DIGEST_INTERVAL_S, first=120.0, name="digest", job_kwargs=NO_OVERLAP
    )
