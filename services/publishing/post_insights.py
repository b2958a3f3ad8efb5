"""Reach and views of a published post from Graph insights (specs/EXTERNAL_APIS.md §8).

Only metrics Graph still supports are asked for: Instagram `reach` and `views`; Facebook
`post_total_media_view_unique` (reach) and `post_media_view` (views), which replaced the
`post_impressions*` family. Both are asked for in one request; since one unsupported metric
fails a whole request (code 100), that answer sends each metric on its own instead. A metric
Graph refuses or has no data for is skipped (None), and so are both when the post has too few
viewers (code 10): never an error.
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
_TOO_FEW_VIEWERS = 10
_UNSUPPORTED_METRIC = 100
_SKIPPED_CODES = frozenset({_TOO_FEW_VIEWERS, _UNSUPPORTED_METRIC})


@dataclass(frozen=True, slots=True)
class Reach:
    """What Graph reported for one post; None where a metric is unsupported or has no data."""

    reach: int | None
    views: int | None


async def post_reach(graph: GraphClient, platform: str, post_id: str, token: str) -> Reach:
    """Reach and views of one published post (one Graph call, unless a metric is refused)."""
    reach_metric, views_metric = METRICS[platform]
    try:
        answer = await _insights(graph, post_id, f"{reach_metric},{views_metric}", token)
    except PublishError as exc:
        if exc.code == _TOO_FEW_VIEWERS:
            log.info("insights skipped: too few viewers", extra={"platform": platform})
            return Reach(None, None)
        if exc.code != _UNSUPPORTED_METRIC:
            raise
        return Reach(
            reach=await _metric(graph, post_id, reach_metric, token),
            views=await _metric(graph, post_id, views_metric, token),
        )
    data = answer.get("data")
    return Reach(reach=_value(data, reach_metric), views=_value(data, views_metric))


async def _insights(graph: GraphClient, post_id: str, metrics: str, token: str) -> Any:
    return await graph.get(f"/{post_id}/insights", token, {"metric": metrics, "period": "lifetime"})


async def _metric(graph: GraphClient, post_id: str, metric: str, token: str) -> int | None:
    try:
        answer = await _insights(graph, post_id, metric, token)
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
