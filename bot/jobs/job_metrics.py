"""The wrapper every recurring job runs in: counts its runs, failures and durations."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from telegram.ext import ContextTypes

from bot.app_type import App
from services import metrics

Callback = Callable[[ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, Any]]


def metered(callback: Callback) -> Callback:
    """`callback`, recorded in the job metrics under the job's name."""

    @wraps(callback)
    async def run(context: ContextTypes.DEFAULT_TYPE) -> None:
        name = context.job.name if context.job is not None and context.job.name else "job"
        await metrics.observe_job(name, lambda: callback(context))

    return run


def meter_all(app: App) -> None:
    """Wrap every job scheduled so far, so that no job module has to remember to."""
    assert app.job_queue is not None
    for job in app.job_queue.jobs():
        job.callback = metered(job.callback)
