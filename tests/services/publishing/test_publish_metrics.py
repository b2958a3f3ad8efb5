"""Publishing shows in the metrics: posts by platform and outcome, Graph errors by kind."""

from __future__ import annotations

from db.base import utcnow
from services import metrics
from services.context import Database
from services.publishing.graph_resources import GraphResources
from services.publishing.publish_rounds import publish_due
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.conftest import IG_ID, PAGE_ID, seed_post


def _value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_outcomes_and_graph_errors_are_counted(
    database: Database, fake: FakeGraphApi, graph: GraphResources
) -> None:
    posts = "rltr_mktg_posts_total"
    errors = "rltr_mktg_graph_errors_total"
    before = {
        "fb_ok": _value(posts, platform="facebook", outcome="success"),
        "ig_failed": _value(posts, platform="instagram", outcome="failed"),
        "fb_retried": _value(posts, platform="facebook", outcome="retried"),
        "policy": _value(errors, kind="policy"),
        "transient": _value(errors, kind="transient"),
    }
    now = utcnow()
    await seed_post(database, fake, at=now)
    fake.fail_next(f"/{IG_ID}/media_publish", code=4, subcode=2207051, message="spam")
    result = await publish_due(database, graph.publisher, now=now)
    assert (result.succeeded, result.failed) == (1, 1)
    assert _value(posts, platform="facebook", outcome="success") == before["fb_ok"] + 1
    assert _value(posts, platform="instagram", outcome="failed") == before["ig_failed"] + 1
    assert _value(errors, kind="policy") == before["policy"] + 1

    # Both attempts of the client fail (one retry of its own), so the post is re-queued.
    await seed_post(database, fake, platforms=["facebook"], at=now)
    fake.fail_next(f"/{PAGE_ID}/photos", times=2, code=2, message="Service temporarily unavailable")
    result = await publish_due(database, graph.publisher, now=now)
    assert result.retried == 1
    assert _value(posts, platform="facebook", outcome="retried") == before["fb_retried"] + 1
    assert _value(errors, kind="transient") == before["transient"] + 2
