"""The OpenAI writer with the real `openai` client against the fake server: every failure mode."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from services.generation.openai_writer import OpenAIWriter
from services.generation.writer import GenerationFailed, WriteRequest
from services.generation.writer_factory import build_writer, close_writer
from tests.fakes.openai_server import Behaviour, FakeOpenAI
from tests.services.generation.gen_listings import AGENT, BASE, PRICE_DROP, SENIOR

REQ = WriteRequest("social_media_post", "new_listing", BASE, AGENT)


def _writer(fake: FakeOpenAI, **kw: object) -> OpenAIWriter:
    options: dict = {"concurrency": 4, "timeout_s": 5, "max_retries": 2, **kw}
    return OpenAIWriter(api_key="sk-test", base_url=fake.base_url, model="gpt-4o-mini", **options)


async def test_build_writer_with_a_key_talks_to_the_configured_server(
    fake_openai: FakeOpenAI,
) -> None:
    writer = build_writer(
        "sk-test", fake_openai.base_url, "gpt-4o-mini", concurrency=2, timeout_s=5
    )
    assert isinstance(writer, OpenAIWriter)
    result = await writer.write(REQ)
    await close_writer(writer)
    assert result.writer == "openai:gpt-4o-mini"
    assert len(fake_openai.requests) == 1


async def test_good_draft_uses_strict_structured_outputs(fake_openai: FakeOpenAI) -> None:
    writer = _writer(fake_openai)
    result = await writer.write(REQ)
    await writer.aclose()
    assert result.content["headline"]
    assert "$349,990" in result.content["facebook_text"]
    assert result.content["hashtags"][0].startswith("#")
    [req] = fake_openai.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test"
    assert req.body["model"] == "gpt-4o-mini"
    schema = req.schema
    assert schema is not None and schema["name"] == "SocialPost" and schema["strict"] is True
    assert set(schema["schema"]["required"]) == {
        "headline",
        "body",
        "hashtags",
        "call_to_action",
        "facebook_text",
        "instagram_text",
    }
    assert schema["schema"]["additionalProperties"] is False
    # the usage the server reported, not a guess
    assert result.usage_tokens == req.usage_total > 0


async def test_prompts_carry_rules_facts_and_agent(fake_openai: FakeOpenAI) -> None:
    writer = _writer(fake_openai)
    await writer.write(WriteRequest("social_media_post", "new_listing", SENIOR, AGENT))
    await writer.aclose()
    [req] = fake_openai.requests
    system = req.system_prompt
    for must in (
        "Use ONLY the facts",
        "Fair housing",
        "primary bedroom",
        "link in bio",
        "2,200",
        "call to action",
    ):
        assert must in system
    user = req.user_prompt
    facts = json.loads(user.split("LISTING FACTS (JSON):\n", 1)[1].split("\n\n", 1)[0])
    assert facts["price"] == 289900 and facts["price_display"] == "$289,900"
    assert facts["baths"] == 2 and facts["age_restricted_community"] is True
    assert "Sunshine Realty · Equal Housing Opportunity" in user
    assert '"phone": "(352) 555-0123"' in user


async def test_revision_prompt_has_previous_version_and_feedback(fake_openai: FakeOpenAI) -> None:
    writer = _writer(fake_openai)
    first = await writer.write(REQ)
    req = WriteRequest(
        "social_media_post",
        "revision",
        BASE,
        AGENT,
        previous=first.content,
        feedback="Shorter, and mention the lanai.",
    )
    await writer.write(req)
    await writer.aclose()
    user = fake_openai.requests[-1].user_prompt
    assert "Revise this social media post" in user
    assert "PREVIOUS VERSION (JSON):" in user and first.content["headline"] in user
    assert "AGENT'S FEEDBACK:\nShorter, and mention the lanai." in user


async def test_price_improvement_and_flyer_prompts(fake_openai: FakeOpenAI) -> None:
    writer = _writer(fake_openai)
    await writer.write(WriteRequest("social_media_post", "price_improvement", PRICE_DROP, AGENT))
    flyer = await writer.write(WriteRequest("flyer_text", "flyer", BASE, AGENT))
    await writer.aclose()
    assert "price improvement" in fake_openai.requests[0].user_prompt
    assert '"previous_price_display": "$359,990"' in fake_openai.requests[0].user_prompt
    assert fake_openai.requests[1].schema["name"] == "FlyerText"  # type: ignore[index]
    assert set(flyer.content) == {
        "headline",
        "subheadline",
        "bullets",
        "description",
        "call_to_action",
        "agent_contact",
    }


@pytest.mark.parametrize(
    "kind", ["refusal", "length", "content_filter", "malformed_json", "schema_mismatch"]
)
async def test_unusable_answer_is_retried_once_then_succeeds(
    fake_openai: FakeOpenAI, kind: str
) -> None:
    fake_openai.script(kind, "good")
    writer = _writer(fake_openai)
    result = await writer.write(REQ)
    await writer.aclose()
    assert len(fake_openai.requests) == 2
    assert result.content["headline"]
    if kind in ("length", "content_filter"):
        assert result.usage_tokens > 0  # tokens of the wasted attempt are still reported


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("refusal", "refused"),
        ("length", "cut off"),
        ("content_filter", "content filter"),
        ("malformed_json", "not valid JSON"),
    ],
)
async def test_unusable_twice_is_a_retryable_failure(
    fake_openai: FakeOpenAI, kind: str, words: str
) -> None:
    fake_openai.script(kind, kind, "good")
    writer = _writer(fake_openai)
    with pytest.raises(GenerationFailed) as info:
        await writer.write(REQ)
    await writer.aclose()
    assert info.value.retryable is True
    assert words in info.value.reason and "next pass" in info.value.reason
    assert len(fake_openai.requests) == 2  # only one retry


async def test_429_honours_retry_after(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Behaviour("rate_limit", retry_after_s=0.3), "good")
    writer = _writer(fake_openai)
    started = time.monotonic()
    result = await writer.write(REQ)
    elapsed = time.monotonic() - started
    await writer.aclose()
    assert result.content["headline"]
    assert [r.retry_count for r in fake_openai.requests] == [0, 1]
    assert 0.3 <= elapsed < 2.0  # waited what the server asked, not the default back-off


async def test_429_with_whole_second_retry_after(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Behaviour("rate_limit", retry_after_s=1), "good")
    writer = _writer(fake_openai)
    started = time.monotonic()
    await writer.write(REQ)
    await writer.aclose()
    assert 1.0 <= time.monotonic() - started < 3.0
    assert len(fake_openai.requests) == 2


async def test_500_is_retried_by_the_sdk(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("server_error", "overloaded", "good")
    writer = _writer(fake_openai)
    result = await writer.write(REQ)
    await writer.aclose()
    assert result.content["headline"]
    assert [r.retry_count for r in fake_openai.requests] == [0, 1, 2]


async def test_persistent_500_is_a_retryable_failure(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("server_error", "server_error")
    writer = _writer(fake_openai, max_retries=1)
    with pytest.raises(GenerationFailed) as info:
        await writer.write(REQ)
    await writer.aclose()
    assert info.value.retryable is True
    assert "next pass" in info.value.reason
    assert len(fake_openai.requests) == 2


async def test_persistent_rate_limit_is_retryable(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        Behaviour("rate_limit", retry_after_s=0.01), Behaviour("rate_limit", retry_after_s=0.01)
    )
    writer = _writer(fake_openai, max_retries=1)
    with pytest.raises(GenerationFailed) as info:
        await writer.write(REQ)
    await writer.aclose()
    assert info.value.retryable is True and "rate-limiting" in info.value.reason


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("auth_error", "OPENAI_API_KEY"),
        ("permission_denied", "permissions"),
        ("insufficient_quota", "out of credit"),
        ("model_not_found", "OPENAI_MODEL"),
    ],
)
async def test_account_problems_are_not_retryable_and_say_what_to_do(
    fake_openai: FakeOpenAI, kind: str, words: str
) -> None:
    fake_openai.script(kind, kind, kind)
    writer = _writer(fake_openai, max_retries=0)
    with pytest.raises(GenerationFailed) as info:
        await writer.write(REQ)
    await writer.aclose()
    assert info.value.retryable is False
    assert words in info.value.reason
    assert len(re.findall(r"[.!?](?:\s|$)", info.value.reason)) == 1  # one sentence
    assert "sk-test" not in info.value.reason
    assert len(fake_openai.requests) == 1


async def test_timeout_is_a_retryable_failure(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Behaviour("good", latency_s=1.0))
    writer = _writer(fake_openai, timeout_s=0.2, max_retries=0)
    with pytest.raises(GenerationFailed) as info:
        await writer.write(REQ)
    await writer.aclose()
    assert info.value.retryable is True


async def test_concurrency_is_bounded(fake_openai: FakeOpenAI) -> None:
    fake_openai.latency_s = 0.1
    writer = _writer(fake_openai, concurrency=3)
    started = time.monotonic()
    results = await asyncio.gather(*(writer.write(REQ) for _ in range(9)))
    elapsed = time.monotonic() - started
    await writer.aclose()
    assert len(results) == 9
    assert fake_openai.max_in_flight == 3
    assert 0.3 <= elapsed < 1.0  # three waves of 0.1 s
