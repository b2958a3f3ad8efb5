"""Reach and views of a published post from Graph insights (specs/EXTERNAL_APIS.md §8).

Only metrics Graph still supports are asked for: Instagram `reach` and `views`; Facebook
`post_total_media_view_unique` (reach) and `post_media_view` (views), which replaced the
`post_impressions*` family. One unsupported metric fails a whole request, so each metric is
asked for on its own: a metric Graph refuses (code 100, or 10 for too few viewers) or has no
data for is skipped (None), never an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from services.publishing.graph_client import GraphClient
from services.publishing.graph_errors import PublishError

log = logging.getLogger(__name__)

# (reach metric, views metric) per platform.
METRICS: dict[str, tuple[str, str]] = {
    "instagram": ("reach", "views"),
    "facebook": ("post_total_media_view_unique", "post_media_view"),
}
_SKIPPED_CODES = frozenset({10, 100})


@dataclass(frozen=True, slots=True)
class Reach:
    """What Graph reported for one post; None where a metric is unsupported or has no data."""

    reach: int | None
    views: int | None


async def post_reach(graph: GraphClient, platform: str, post_id: str, token: str) -> Reach:
    """Reach and views of one published post."""
    reach_metric, views_metric = METRICS[platform]
    return Reach(
        reach=await _metric(graph, post_id, reach_metric, token),
        views=await _metric(graph, post_id, views_metric, token),
    )


async def _metric(graph: GraphClient, post_id: str, metric: str, token: str) -> int | None:
    try:
        answer = await graph.get(
            f"/{post_id}/insights", token, {"metric": metric, "period": "lifetime"}
        )
    except PublishError as exc:
        if exc.code in _SKIPPED_CODES:
            log.info("insight metric skipped", extra={"metric": metric, "code": exc.code})
            return None
        raise
    return _value(answer.get("data"), metric)


def _value(data: Any, metric: str) -> int | None:
    if not isinstance(data, list):
        return None
    for entry in data:
        if not isinstance(entry, dict) or entry.get("name") != metric:
            continue
        values = entry.get("values")
        if isinstance(values, list) and values and isinstance(values[0], dict):
            value = values[0].get("value")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return int(value)
    return None
