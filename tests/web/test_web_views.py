"""The views of web/ through aiohttp's test client: health, readiness, metrics, webhook."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services import metrics
from web import health
from web.app import build_web_app
from web.webhook import SECRET_HEADER, TelegramWebhook

SECRET = "s3cret_Value-1"
UPDATE = {"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 1}}}


async def _ok() -> str | None:
    return None


async def _down() -> str | None:
    return "cannot reach the database (ConnectionRefusedError)"


async def test_healthz_answers_ok(client_for) -> None:
    async with client_for(build_web_app(probes={"database": _down})) as client:
        resp = await client.get("/healthz")
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}


async def test_readyz_is_200_when_every_probe_passes(client_for) -> None:
    app = build_web_app(probes={"database": _ok, "bot": _ok, "jobs": _ok})
    async with client_for(app) as client:
        resp = await client.get("/readyz")
        assert resp.status == 200
        assert (await resp.json())["status"] == "ready"


async def test_readyz_is_503_naming_each_failing_probe(client_for, monkeypatch) -> None:
    monkeypatch.setattr(health, "PROBE_TIMEOUT_S", 0.2)

    async def boom() -> str | None:
        raise RuntimeError("scheduler exploded")

    async def hangs() -> str | None:
        await asyncio.sleep(10)
        return None

    app = build_web_app(probes={"database": _down, "bot": _ok, "jobs": boom, "slow": hangs})
    async with client_for(app) as client:
        resp = await client.get("/readyz")
        assert resp.status == 503
        body = await resp.json()
    assert body["status"] == "not ready"
    assert set(body["failing"]) == {"database", "jobs", "slow"}
    assert body["failing"]["database"] == "cannot reach the database (ConnectionRefusedError)"
    assert "scheduler exploded" in body["failing"]["jobs"]
    assert body["failing"]["slow"] == "no answer within 0.2 s"


async def test_metrics_serves_every_family_in_prometheus_text(client_for) -> None:
    async with client_for(build_web_app(probes={})) as client:
        resp = await client.get("/metrics")
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        text = await resp.text()
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    expected = {
        "rltr_mktg_taps": "counter",
        "rltr_mktg_tap_duration_seconds": "histogram",
        "rltr_mktg_drafts_delivered": "counter",
        "rltr_mktg_posts": "counter",
        "rltr_mktg_job_runs": "counter",
        "rltr_mktg_job_failures": "counter",
        "rltr_mktg_job_duration_seconds": "histogram",
        "rltr_mktg_telegram_errors": "counter",
        "rltr_mktg_graph_errors": "counter",
        "rltr_mktg_scrape_requests": "counter",
        "rltr_mktg_scrape_failures": "counter",
        "process_resident_memory_bytes": "gauge",
    }
    assert {name: families.get(name) for name in expected} == expected
    body, content_type = metrics.render_metrics()
    assert content_type.startswith("text/plain") and b"rltr_mktg_taps" in body


class _Sink:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    async def __call__(self, data: dict[str, Any]) -> None:
        if "update_id" not in data:
            raise ValueError("not an update")
        self.updates.append(data)


def _webhook_app(sink: _Sink) -> Any:
    return build_web_app(probes={}, telegram_webhook=TelegramWebhook(SECRET, sink))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SECRET_HEADER: "wrong"},
        {SECRET_HEADER: SECRET[:-1]},
        {SECRET_HEADER: SECRET + "x"},
        {SECRET_HEADER: "Ω" + SECRET},
    ],
    ids=["missing", "wrong", "prefix", "longer", "non-ascii"],
)
async def test_webhook_without_the_right_secret_is_403_and_nothing_is_handed_on(
    client_for, headers: dict[str, str]
) -> None:
    sink = _Sink()
    async with client_for(_webhook_app(sink)) as client:
        resp = await client.post(
            "/telegram/webhook",
            data=json.dumps(UPDATE),
            headers={"Content-Type": "application/json", **headers},
        )
        assert resp.status == 403
    assert sink.updates == []


async def test_webhook_with_the_secret_hands_the_update_on_and_answers_200(client_for) -> None:
    sink = _Sink()
    async with client_for(_webhook_app(sink)) as client:
        resp = await client.post(
            "/telegram/webhook",
            data=json.dumps(UPDATE),
            headers={"Content-Type": "application/json", SECRET_HEADER: SECRET},
        )
        assert resp.status == 200
        assert await resp.read() == b""
    assert sink.updates == [UPDATE]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"no": "update id"}'])
async def test_webhook_with_a_bad_body_is_400(client_for, body: bytes) -> None:
    sink = _Sink()
    async with client_for(_webhook_app(sink)) as client:
        resp = await client.post(
            "/telegram/webhook",
            data=body,
            headers={"Content-Type": "application/json", SECRET_HEADER: SECRET},
        )
        assert resp.status == 400
    assert sink.updates == []


async def test_no_webhook_route_in_polling_mode(client_for) -> None:
    async with client_for(build_web_app(probes={})) as client:
        resp = await client.post(
            "/telegram/webhook", data=json.dumps(UPDATE), headers={SECRET_HEADER: SECRET}
        )
        assert resp.status == 404
