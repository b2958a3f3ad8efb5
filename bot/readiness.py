"""Readiness probes of the bot side: the bot receives updates, the jobs keep running.

Each probe answers None when ready, or a few words saying what is not (web/health.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.base import STATE_PAUSED
from apscheduler.triggers.interval import IntervalTrigger

from bot.app_type import App
from bot.updates import RECEIVING_KEY

Probe = Callable[[], Awaitable[str | None]]

# A job is stuck when its next run is this many intervals in the past (never less than
# MIN_OVERDUE_S, the jobs' misfire grace time): the scheduler fires jobs on time even
# while an earlier run of the same job is still going, so only a scheduler that stopped
# firing falls this far behind.
OVERDUE_INTERVALS = 3
MIN_OVERDUE_S = 60.0


def bot_probe(app: App) -> Probe:
    """Ready once the application runs and polling or the webhook is set up (a worker,
    which takes no updates, once the application runs)."""

    async def probe() -> str | None:
        if not app.running:
            return "the bot is not running"
        receiving = app.bot_data.get(RECEIVING_KEY)
        if receiving is None:
            return "the bot does not receive updates yet"
        if receiving == "polling" and (app.updater is None or not app.updater.running):
            return "polling has stopped"
        return None

    return probe


def jobs_probe(app: App, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Probe:
    """Ready while the job scheduler runs and no job is overdue by a few intervals."""

    async def probe() -> str | None:
        jq = app.job_queue
        if jq is None or not jq.scheduler.running:
            return "the job scheduler is not running"
        if jq.scheduler.state == STATE_PAUSED:
            return "the job scheduler is paused"
        jobs = jq.jobs()
        if not jobs:
            return "no jobs are scheduled"
        now = clock()
        late = []
        for job in jobs:
            next_t = job.next_t
            if next_t is None:
                continue
            trigger = job.job.trigger
            interval = (
                trigger.interval.total_seconds() if isinstance(trigger, IntervalTrigger) else 0.0
            )
            behind = (now - next_t).total_seconds()
            if behind > max(OVERDUE_INTERVALS * interval, MIN_OVERDUE_S):
                late.append(f"{job.name} is {behind:.0f} s overdue")
        return "; ".join(sorted(late)) or None

    return probe
