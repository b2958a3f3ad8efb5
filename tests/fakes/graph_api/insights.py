"""Post insights: set by tests, read with `GET /{post-id}/insights`."""

from __future__ import annotations

from typing import Any

from tests.fakes.graph_api.graph_faults import GraphFault
from tests.fakes.graph_api.records import FakeToken


class InsightsMethods:
    """Post insights: set by tests, read with `GET /{post-id}/insights`.

    Mixed into ``FakeGraphApi``, whose state it uses.
    """

    def set_insights(self, post_id: str, **metrics: int) -> None:
        """What Graph reports for a published post or media."""
        self.insights.setdefault(post_id, {}).update(metrics)

    def _get_insights(self, node_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        post = next((p for p in self.posts if p.id == node_id and not p.deleted), None)
        if post is None:
            raise GraphFault(
                100,
                f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                type="GraphMethodException",
            )
        if node_id in self.few_viewers:
            raise GraphFault(10, "(#10) Not enough viewers for the media to show insights")
        wanted = [m.strip() for m in str(params.get("metric") or "").split(",") if m.strip()]
        if not wanted:
            raise GraphFault(3001, "Invalid query", subcode=1504028)
        valid = self.insight_metrics[post.platform]
        for metric in wanted:
            if metric in valid:
                continue
            if post.platform == "instagram":
                raise GraphFault(
                    100,
                    f"(#100) The Media Insights API does not support the {metric} metric for "
                    "this media product type.",
                )
            raise GraphFault(100, "(#100) The value must be a valid insights metric")
        known = self.insights.get(node_id, {})
        return {
            "data": [
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": known[metric]}],
                    "title": metric.replace("_", " ").title(),
                    "description": "",
                    "id": f"{node_id}/insights/{metric}/lifetime",
                }
                for metric in wanted
                if metric in known
            ]
        }
