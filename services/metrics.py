"""Every Prometheus metric of the process, defined once, and its text rendering.

The metrics live on their own `CollectorRegistry`, not prometheus-client's global one, so
that importing this module twice in tests or running two apps in one process never
registers a name twice. `/metrics` (web/health.py) serves `REGISTRY`.

Recording is one call at each natural point (the tap handler, draft delivery, the
publisher's outcomes, the job wrapper, the Telegram and Graph transports, the scrape
fetcher). A labelled increment costs about a microsecond, nothing next to a tap's
round trips.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)

P = ParamSpec("P")
R = TypeVar("R")

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

_PREFIX = "rltr_mktg_"
# Taps are answered in tens of milliseconds; the product target is p99 < 100 ms.
_TAP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
# Jobs run from milliseconds (an idle delivery round) to minutes (a full scrape pass).
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)

TAPS = Counter(
    _PREFIX + "taps",
    "Draft button taps, by action and outcome (ok, stale, refused, forged).",
    ["action", "outcome"],
    registry=REGISTRY,
)
TAP_SECONDS = Histogram(
    _PREFIX + "tap_duration_seconds",
    "Time from receiving a draft button tap to its answer and redrawn message.",
    buckets=_TAP_BUCKETS,
    registry=REGISTRY,
)
DRAFTS_DELIVERED = Counter(
    _PREFIX + "drafts_delivered",
    "Draft versions sent to an agent's chat.",
    registry=REGISTRY,
)
POSTS = Counter(
    _PREFIX + "posts",
    "Publishing attempts by platform and outcome (success, retried, failed).",
    ["platform", "outcome"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(_PREFIX + "job_runs", "Runs of each recurring job.", ["job"], registry=REGISTRY)
JOB_FAILURES = Counter(
    _PREFIX + "job_failures",
    "Runs of each recurring job that raised.",
    ["job"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    _PREFIX + "job_duration_seconds",
    "Duration of each recurring job's runs.",
    ["job"],
    buckets=_JOB_BUCKETS,
    registry=REGISTRY,
)
TELEGRAM_ERRORS = Counter(
    _PREFIX + "telegram_errors",
    "Bot API calls that failed, by kind (bad_request, forbidden, flood, conflict, server, "
    "timeout, network, ...).",
    ["kind"],
    registry=REGISTRY,
)
GRAPH_ERRORS = Counter(
    _PREFIX + "graph_errors",
    "Graph API call attempts that failed, by the publishing error kind.",
    ["kind"],
    registry=REGISTRY,
)
SCRAPE_REQUESTS = Counter(
    _PREFIX + "scrape_requests",
    "HTTP requests sent to the builder's site (robots.txt, retries and redirects included).",
    registry=REGISTRY,
)
SCRAPE_FAILURES = Counter(
    _PREFIX + "scrape_failures",
    "Pages of the builder's site that could not be fetched, by kind.",
    ["kind"],
    registry=REGISTRY,
)

FACEBOOK_LOGINS = Counter(
    _PREFIX + "facebook_logins",
    "Returns from the Facebook Login dialog, by outcome (offered, denied, expired, used, ...).",
    ["outcome"],
    registry=REGISTRY,
)

_TELEGRAM_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    429: "flood",
}


def render_metrics() -> tuple[bytes, str]:
    """Every metric in the Prometheus text format, and that format's content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def record_tap(action: str, outcome: str) -> None:
    """Count one draft button tap."""
    TAPS.labels(action, outcome).inc()


def tap_outcome(ok: bool, stale: bool) -> str:
    """The outcome label of a tap: ok, stale (out-of-date buttons) or refused."""
    return "ok" if ok else "stale" if stale else "refused"


def timed_tap(handler: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate the tap handler so that each call lands in `TAP_SECONDS`."""

    @wraps(handler)
    async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            return await handler(*args, **kwargs)
        finally:
            TAP_SECONDS.observe(time.perf_counter() - started)

    return timed


def record_post(platform: str, outcome: str) -> None:
    """Count one publishing attempt's outcome."""
    POSTS.labels(platform, outcome).inc()


def telegram_error(kind: str) -> None:
    """Count one failed Bot API call by kind."""
    TELEGRAM_ERRORS.labels(kind).inc()


def telegram_status_error(status: int) -> None:
    """Count one Bot API error answer by its HTTP status."""
    kind = _TELEGRAM_KINDS.get(status) or ("server" if status >= 500 else f"http_{status}")
    TELEGRAM_ERRORS.labels(kind).inc()


def graph_error(kind: str) -> None:
    """Count one failed Graph API attempt by its error kind."""
    GRAPH_ERRORS.labels(kind).inc()


def scrape_failure(error: BaseException) -> None:
    """Count one fetch that failed for good, by error class (HttpStatusError → http_status)."""
    name = type(error).__name__.removesuffix("Error") or "unknown"
    SCRAPE_FAILURES.labels(re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()).inc()


async def observe_job(job: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run one job and record its run, duration and (if it raises) failure."""
    started = time.perf_counter()
    JOB_RUNS.labels(job).inc()
    try:
        await run()
    except Exception:
        JOB_FAILURES.labels(job).inc()
        raise
    finally:
        JOB_SECONDS.labels(job).observe(time.perf_counter() - started)
