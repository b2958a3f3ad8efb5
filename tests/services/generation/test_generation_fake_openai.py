"""The fake OpenAI server speaks the real wire format (checked with the real client and HTTP)."""

from __future__ import annotations

import aiohttp
import openai
import pytest
from openai import AsyncOpenAI
from pydantic import BaseModel

from services.generation.content import SocialPost
from services.generation.prompts import user_prompt
from services.generation.writer import WriteRequest
from tests.fakes.openai_server import FakeOpenAI
from tests.services.generation.gen_listings import AGENT, BASE

PROMPT = user_prompt(WriteRequest("social_media_post", "new_listing", BASE, AGENT))


class Loose(BaseModel):
    title: str


async def test_responses_api_structured_output(fake_openai: FakeOpenAI) -> None:
    client = AsyncOpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    response = await client.responses.parse(
        model="gpt-4o-mini",
        input=[{"role": "user", "content": PROMPT}],
        instructions="Write a post.",
        text_format=SocialPost,
    )
    await client.close()
    assert isinstance(response.output_parsed, SocialPost)
    assert "$349,990" in response.output_parsed.facebook_text
    assert response.usage is not None and response.usage.total_tokens > 0
    [req] = fake_openai.requests
    assert req.path == "/v1/responses"
    assert req.body["text"]["format"]["name"] == "SocialPost"
    assert req.body["text"]["format"]["strict"] is True
    assert req.system_prompt == "Write a post."


async def test_responses_api_refusal_and_incomplete(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("refusal", "length")
    client = AsyncOpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    refused = await client.responses.create(model="gpt-4o-mini", input=PROMPT)
    cut = await client.responses.create(model="gpt-4o-mini", input=PROMPT)
    await client.close()
    assert refused.output[0].content[0].type == "refusal"  # type: ignore[union-attr]
    assert cut.status == "incomplete"
    assert cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize(
    ("kind", "status", "type_", "code"),
    [
        ("rate_limit", 429, "requests", "rate_limit_exceeded"),
        ("insufficient_quota", 429, "insufficient_quota", "insufficient_quota"),
        ("server_error", 500, "server_error", None),
        ("auth_error", 401, "invalid_request_error", "invalid_api_key"),
        ("permission_denied", 403, "request_forbidden", "unsupported_country_region_territory"),
    ],
)
async def test_error_bodies_have_exactly_the_four_keys_and_the_status(
    fake_openai: FakeOpenAI, kind: str, status: int, type_: str, code: str | None
) -> None:
    fake_openai.script(kind)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{fake_openai.base_url}/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": "Bearer sk-test"},
        ) as resp,
    ):
        body = await resp.json()
        assert resp.status == status
        assert resp.headers["x-request-id"]
        if kind == "rate_limit":
            assert int(resp.headers["retry-after"]) >= 1
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == type_ and body["error"]["code"] == code
    assert body["error"]["message"]


async def test_sdk_maps_fake_errors_to_its_exceptions(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("auth_error", "insufficient_quota")
    client = AsyncOpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.RateLimitError) as info:
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    await client.close()
    assert info.value.code == "insufficient_quota"
    assert info.value.request_id


async def test_non_strict_schema_is_refused_like_the_api(fake_openai: FakeOpenAI) -> None:
    client = AsyncOpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    bad_schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "Loose",
            "strict": True,
            "schema": {"type": "object", "properties": {"title": {"type": "string"}}},
        },
    }
    with pytest.raises(openai.BadRequestError) as info:
        await client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "x"}],
            response_format=bad_schema,  # type: ignore[arg-type]
        )
    await client.close()
    assert info.value.status_code == 400
    assert info.value.body["param"] == "response_format"  # type: ignore[index]


async def test_missing_api_key_is_401(fake_openai: FakeOpenAI) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{fake_openai.base_url}/chat/completions", json={"model": "m", "messages": []}
        ) as resp,
    ):
        assert resp.status == 401


async def test_chat_completion_body_shape(fake_openai: FakeOpenAI) -> None:
    client = AsyncOpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    completion = await client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hello"}],
        response_format=Loose,
    )
    await client.close()
    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.parsed == Loose(title="text")
    assert completion.usage is not None
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


async def test_stats_endpoint_counts_requests(fake_openai: FakeOpenAI) -> None:
    client = AsyncOpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    await client.close()
    stats_url = fake_openai.base_url.removesuffix("/v1") + "/_fake/stats"
    async with aiohttp.ClientSession() as http, http.get(stats_url) as resp:
        stats = await resp.json()
    assert stats == {
        "requests": 1,
        "max_in_flight": 1,
        "usage_total": fake_openai.requests[0].usage_total,
    }
