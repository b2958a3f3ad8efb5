"""GraphClient against the fake Graph API: parameters, retries, at-most-once, redaction."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import traceback

import pytest

from services.graph_versions import CURRENT_GRAPH_VERSION
from services.publishing import GraphClient, PublishError
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.graph.conftest import PAGE_ID, PAGE_TOKEN


async def test_get_sends_token_in_the_bearer_header_and_parses_json(client, fake) -> None:
    body = await client.get(PAGE_ID, PAGE_TOKEN, {"fields": "id,name"})
    assert body == {"id": PAGE_ID, "name": "Sunny Homes"}
    [call] = fake.graph_calls("GET")
    assert call.path == f"/{PAGE_ID}"  # version prefix stripped by the fake
    assert call.token == PAGE_TOKEN
    assert call.params == {"fields": "id,name"}
    assert PAGE_TOKEN not in call.url and "access_token" not in call.url


async def test_post_sends_a_form_with_json_encoded_values(client, fake) -> None:
    photo = await client.post(
        f"{PAGE_ID}/photos",
        PAGE_TOKEN,
        {"url": fake.add_jpeg("a.jpg", 100, 100), "published": False},
        idempotent=True,
    )
    body = await client.post(
        f"{PAGE_ID}/feed",
        PAGE_TOKEN,
        {"message": "hi", "attached_media[0]": {"media_fbid": photo["id"]}},
    )
    assert body["id"].startswith(f"{PAGE_ID}_")
    feed = fake.graph_calls("POST", f"/{PAGE_ID}/feed")[0]
    assert json.loads(feed.params["attached_media[0]"]) == {"media_fbid": photo["id"]}
    assert fake.graph_calls("POST", f"/{PAGE_ID}/photos")[0].params["published"] == "false"


async def test_base_url_without_version_works(session, fake) -> None:
    client = GraphClient(session, fake.root_url)
    assert (await client.get("me", PAGE_TOKEN))["id"] == PAGE_ID


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001, 1, 2])
async def test_transient_and_throttling_errors_are_retried_then_succeed(client, fake, code) -> None:
    fake.fail_next(f"/{PAGE_ID}", times=2, code=code)
    body = await client.get(PAGE_ID, PAGE_TOKEN, {"fields": "name"})
    assert body["name"] == "Sunny Homes"
    assert len(fake.graph_calls("GET", f"/{PAGE_ID}")) == 3


async def test_throttled_post_is_retried_because_the_graph_did_nothing(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}/feed", code=32, message="(#32) Page request limit reached")
    body = await client.post(f"{PAGE_ID}/feed", PAGE_TOKEN, {"message": "hello"})
    assert len(fake.graph_calls("POST", f"/{PAGE_ID}/feed")) == 2
    assert [p.id for p in fake.visible_posts()] == [body["id"]]


async def test_retries_are_bounded(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}", times=10, code=2, http_status=500, is_transient=True)
    with pytest.raises(PublishError) as info:
        await client.get(PAGE_ID, PAGE_TOKEN)
    assert info.value.kind == "transient" and info.value.retryable
    assert len(fake.graph_calls("GET")) == 4  # 1 + max_retries


@pytest.mark.parametrize(
    ("code", "subcode", "kind"),
    [
        (100, None, "invalid_request"),
        (190, 460, "token_invalid"),
        (200, None, "permission"),
        (36003, 2207009, "media"),
        (506, None, "duplicate"),
    ],
)
async def test_permanent_errors_are_not_retried(client, fake, code, subcode, kind) -> None:
    fake.fail_next(f"/{PAGE_ID}/feed", code=code, subcode=subcode)
    with pytest.raises(PublishError) as info:
        await client.post(f"{PAGE_ID}/feed", PAGE_TOKEN, {"message": "hello"})
    assert info.value.kind == kind and not info.value.retryable
    assert (info.value.code, info.value.subcode) == (code, subcode)
    assert len(fake.graph_calls("POST")) == 1
    assert fake.visible_posts() == []


async def test_real_token_error_from_the_fake(client, fake) -> None:
    fake.revoke_token(PAGE_TOKEN, subcode=463)
    with pytest.raises(PublishError) as info:
        await client.get(PAGE_ID, PAGE_TOKEN)
    assert info.value.deactivates_account
    assert "expired" in info.value.user_message
    assert len(fake.graph_calls()) == 1


async def test_long_rate_limit_wait_is_left_to_the_caller(client, fake) -> None:
    usage = {PAGE_ID: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 5}]}
    fake.fail_next(
        f"/{PAGE_ID}", code=80001, headers={"X-Business-Use-Case-Usage": json.dumps(usage)}
    )
    with pytest.raises(PublishError) as info:
        await client.get(PAGE_ID, PAGE_TOKEN)
    assert info.value.kind == "rate_limited" and info.value.retryable
    assert info.value.retry_after_s == 300
    assert len(fake.graph_calls()) == 1


async def test_short_rate_limit_wait_is_honoured(session, fake) -> None:
    client = GraphClient(session, fake.base_url, backoff_base_s=0.01, max_backoff_s=5)
    fake.fail_next(f"/{PAGE_ID}", code=4, headers={"Retry-After": "1"})
    started = time.monotonic()
    await client.get(PAGE_ID, PAGE_TOKEN)
    assert time.monotonic() - started >= 0.95
    assert len(fake.graph_calls()) == 2


async def test_exhausted_rate_limit_suggests_a_wait(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}", times=9, code=17)
    with pytest.raises(PublishError) as info:
        await client.get(PAGE_ID, PAGE_TOKEN)
    assert info.value.retry_after_s == 60


async def test_html_5xx_is_retried_for_reads(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}", http_status=502, raw_body=b"<html>Bad gateway</html>")
    assert (await client.get(PAGE_ID, PAGE_TOKEN))["id"] == PAGE_ID
    assert len(fake.graph_calls()) == 2


async def test_html_5xx_on_a_publishing_post_is_outcome_unknown(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}/feed", http_status=504, raw_body=b"<html>Gateway timeout</html>")
    with pytest.raises(PublishError) as info:
        await client.post(f"{PAGE_ID}/feed", PAGE_TOKEN, {"message": "hello"})
    assert info.value.kind == "outcome_unknown" and not info.value.retryable
    assert "check your page" in info.value.user_message
    assert len(fake.graph_calls("POST")) == 1


async def test_graph_5xx_error_body_on_a_post_is_retried(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}/feed", code=2, http_status=500, is_transient=True)
    await client.post(f"{PAGE_ID}/feed", PAGE_TOKEN, {"message": "hello"})
    assert len(fake.graph_calls("POST")) == 2
    assert len(fake.visible_posts()) == 1


async def test_read_timeout_is_retried(session, fake) -> None:
    client = GraphClient(session, fake.base_url, timeout_s=0.3, backoff_base_s=0.01)
    fake.fail_next(f"/{PAGE_ID}", action="delay", delay_s=1.0)
    assert (await client.get(PAGE_ID, PAGE_TOKEN))["id"] == PAGE_ID
    assert len(fake.graph_calls()) == 2


async def test_publishing_timeout_is_never_retried(session, fake) -> None:
    client = GraphClient(session, fake.base_url, timeout_s=0.3, backoff_base_s=0.01)
    fake.fail_next(f"/{PAGE_ID}/feed", action="delay", delay_s=0.6)
    with pytest.raises(PublishError) as info:
        await client.post(f"{PAGE_ID}/feed", PAGE_TOKEN, {"message": "hello"})
    assert info.value.kind == "outcome_unknown"
    await asyncio.sleep(0.5)
    # The Graph did publish after we gave up: exactly why a repeat would have been a duplicate.
    assert len(fake.visible_posts()) == 1
    assert len(fake.graph_calls("POST")) == 1


async def test_dropped_connection_after_publishing_is_outcome_unknown(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}/feed", action="disconnect_after")
    with pytest.raises(PublishError) as info:
        await client.post(f"{PAGE_ID}/feed", PAGE_TOKEN, {"message": "hello"})
    assert info.value.kind == "outcome_unknown"
    assert len(fake.visible_posts()) == 1
    assert len(fake.graph_calls("POST")) == 1


async def test_dropped_connection_on_idempotent_post_is_retried(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}/photos", action="disconnect")
    url = fake.add_jpeg("a.jpg", 100, 100)
    body = await client.post(
        f"{PAGE_ID}/photos", PAGE_TOKEN, {"url": url, "published": False}, idempotent=True
    )
    assert body["id"]
    assert len(fake.graph_calls("POST")) == 2


async def test_refused_connection_is_retried_then_transient(session, caplog) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/{CURRENT_GRAPH_VERSION}"
    client = GraphClient(session, base_url, backoff_base_s=0.01)
    caplog.set_level(logging.WARNING, logger="services.publishing")
    with pytest.raises(PublishError) as info:
        await client.post(f"{PAGE_ID}/feed", PAGE_TOKEN, {"message": "x"})
    # Nothing was sent, so even a publishing call may be retried.
    assert info.value.kind == "transient" and info.value.retryable
    assert caplog.text.count("retry ") == 3


async def test_success_body_that_is_not_an_object(client, fake) -> None:
    fake.fail_next(f"/{PAGE_ID}", http_status=200, raw_body=b"<html>hello</html>")
    with pytest.raises(PublishError) as info:
        await client.get(PAGE_ID, PAGE_TOKEN)
    assert info.value.kind == "unknown"


async def test_token_never_appears_in_errors_or_logs(session, fake, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = GraphClient(session, fake.base_url, timeout_s=0.3, backoff_base_s=0.01, max_retries=1)
    # The Graph echoing the token back, a timeout, a gateway page quoting the URL, a dropped
    # connection and a refused one: none of them may leak the token.
    fake.fail_next(f"/{PAGE_ID}", code=100, message=f"(#100) bad token {PAGE_TOKEN}")
    fake.fail_next(f"/{PAGE_ID}/feed", action="delay", delay_s=0.6)
    fake.fail_next(
        f"/{PAGE_ID}/photos",
        http_status=502,
        raw_body=f"<html>GET /photos?access_token={PAGE_TOKEN}</html>".encode(),
    )
    fake.fail_next(f"/{PAGE_ID}/published_posts", times=5, action="disconnect")
    errors: list[PublishError] = []
    calls = [
        client.get(PAGE_ID, PAGE_TOKEN),
        client.post(f"{PAGE_ID}/feed", PAGE_TOKEN, {"message": "m"}),
        client.post(f"{PAGE_ID}/photos", PAGE_TOKEN, {"url": "u"}),
        client.get(f"{PAGE_ID}/published_posts", PAGE_TOKEN),
        GraphClient(session, "http://127.0.0.1:9/v1", max_retries=0).get("me", PAGE_TOKEN),
    ]
    for call in calls:
        with pytest.raises(PublishError) as info:
            await call
        errors.append(info.value)
    assert {e.kind for e in errors} >= {"invalid_request", "outcome_unknown", "transient"}
    for err in errors:
        rendered = "".join(traceback.format_exception(err))
        for text in (str(err), repr(err), err.detail, err.user_message, rendered):
            assert PAGE_TOKEN not in text
    assert "Graph" in caplog.text  # the client did log
    assert PAGE_TOKEN not in caplog.text


async def test_fake_accepts_bearer_header_and_any_version(session, fake: FakeGraphApi) -> None:
    headers = {"Authorization": f"Bearer {PAGE_TOKEN}"}
    for prefix in ("/v19.0", "/v27.0", ""):
        async with session.get(f"{fake.root_url}{prefix}/me", headers=headers) as resp:
            assert resp.status == 200
            assert (await resp.json())["id"] == PAGE_ID
    async with session.get(f"{fake.root_url}/{CURRENT_GRAPH_VERSION}/me") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == 104


async def test_fake_control_endpoints_for_other_processes(session, fake: FakeGraphApi) -> None:
    async with session.post(
        f"{fake.root_url}/__fake__/pages",
        data={"page_id": "400000000000001", "token": "EAAGremoteToken0123456789", "name": "R"},
    ) as resp:
        assert resp.status == 200
    client = GraphClient(session, fake.base_url)
    await client.post("400000000000001/feed", "EAAGremoteToken0123456789", {"message": "hi"})
    async with session.get(f"{fake.root_url}/__fake__/state") as resp:
        state = await resp.json()
    assert state["posts"] == 1 and state["duplicates"] == 0
    assert state["by_account"] == {"400000000000001": 1}
