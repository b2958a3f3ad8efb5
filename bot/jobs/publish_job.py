"""The publish job, start-up recovery of posts left `sent`, and the daily token check.

The Graph HTTP session is created once per process on first use and kept in
`runtime.graph`; `close_graph` (called from the app's post_shutdown) closes it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import ContextTypes

from bot.app_type import App
from bot.jobs.job_options import NO_OVERLAP
from bot.runtime import RUNTIME_KEY, Runtime, runtime
from services import social_accounts
from services.publishing import orphan_settling, publish_rounds
from services.publishing.graph_resources import GraphResources
from services.publishing.publish_leases import default_worker_id

log = logging.getLogger(__name__)

WORKER_ID = default_worker_id()
RECOVERY_DELAY_S = 0.5
FIRST_ROUND_S = 2.0
TOKEN_CHECK_INTERVAL = timedelta(days=1)
TOKEN_CHECK_FIRST_S = 60.0


def graph(rt: Runtime) -> GraphResources:
    """The process's Graph session, client and publisher (created on first use)."""
    if rt.graph is None:
        rt.graph = GraphResources.open(
            rt.settings.graph_api_base_url, listings_base_url=rt.settings.listings_base
        )
    return rt.graph


async def close_graph(app: App) -> None:
    """Close the Graph session, if one was opened (safe to call more than once)."""
    rt = app.bot_data.get(RUNTIME_KEY)
    if isinstance(rt, Runtime):
        resources, rt.graph = rt.graph, None
        if resources is not None:
            await resources.aclose()


async def publish_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Settle posts of publishers that are gone, then publish due posts."""
    rt = runtime(context)
    resources = graph(rt)
    result = await publish_rounds.publish_due(
        rt.database, resources.publisher, worker_id=WORKER_ID, reconciler=resources.reconciler
    )
    if result.claimed or result.errors or result.orphans:
        log.info(
            "publish round",
            extra={
                "claimed": result.claimed,
                "succeeded": result.succeeded,
                "failed": result.failed,
                "retried": result.retried,
                "errors": result.errors,
                "orphans": result.orphans,
                "reconciled_published": result.reconciled_published,
                "reconciled_retried": result.reconciled_retried,
                "elapsed_s": round(result.elapsed_s, 3),
            },
        )
    await orphan_settling.recover_stale(rt.database)


async def recovery_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """At start-up: settle with the platform the posts a dead publisher left `sent`."""
    rt = runtime(context)
    resources = graph(rt)
    settled = await orphan_settling.settle_orphans(
        rt.database, resources.publisher, resources.reconciler, worker_id=WORKER_ID
    )
    if settled.orphans:
        log.warning(
            "posts of a dead publisher settled",
            extra={
                "orphans": settled.orphans,
                "published": settled.reconciled_published,
                "retried": settled.reconciled_retried,
                "waiting": settled.reconciled_waiting,
            },
        )
    count = await orphan_settling.recover_stale(rt.database)
    if count:
        log.warning("posts with unknown outcome marked failed", extra={"count": count})


async def token_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Warn agents a week before a connected account's token expires."""
    rt = runtime(context)
    count = await social_accounts.warn_expiring_tokens(
        rt.database, default_timezone=rt.settings.default_timezone
    )
    if count:
        log.info("token expiry warnings written", extra={"count": count})


def schedule(app: App) -> None:
    """Register recovery (once), publishing (every PUBLISH_INTERVAL_SECONDS), token check."""
    jq = app.job_queue
    assert jq is not None, "python-telegram-bot[job-queue] is required"
    interval = app.bot_data["settings"].publish_interval_seconds
    jq.run_once(recovery_job, when=RECOVERY_DELAY_S, name="publish-recovery")
    jq.run_repeating(
        publish_job, interval=interval, first=FIRST_ROUND_S, name="publish", job_kwargs=NO_OVERLAP
    )
    jq.run_repeating(
        token_job,
        interval=TOKEN_CHECK_INTERVAL,
        first=TOKEN_CHECK_FIRST_S,
        name="token-expiry",
        job_kwargs=NO_OVERLAP,
    )
