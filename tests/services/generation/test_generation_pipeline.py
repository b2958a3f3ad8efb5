"""produce(): disclosure and limits fixed, facts mismatch regenerated once, fair housing flagged."""

from __future__ import annotations

from services.generation.builtin_writer import BuiltinWriter
from services.generation.checks.limits import count_hashtags
from services.generation.openai_writer import OpenAIWriter
from services.generation.pipeline import produce
from services.generation.writer import GenerationFailed, WriteRequest, WriteResult
from tests.fakes.openai_server import Behaviour, FakeOpenAI
from tests.services.generation.gen_listings import AGENT, AGENT_NO_COMPANY, BASE, PRICE_DROP

REQ = WriteRequest("social_media_post", "new_listing", BASE, AGENT)


def _writer(fake: FakeOpenAI) -> OpenAIWriter:
    return OpenAIWriter(
        api_key="sk-test", base_url=fake.base_url, model="gpt-4o-mini", timeout_s=5, max_retries=0
    )


async def test_good_openai_draft_passes_clean(fake_openai: FakeOpenAI) -> None:
    writer = _writer(fake_openai)
    outcome = await produce(writer, REQ)
    await writer.aclose()
    assert outcome.warnings == []
    assert outcome.attempts == 1
    assert outcome.writer == "openai:gpt-4o-mini"
    assert outcome.usage_tokens == fake_openai.requests[0].usage_total


async def test_wrong_facts_trigger_one_regeneration_that_fixes_them(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script("wrong_facts", "good")
    writer = _writer(fake_openai)
    outcome = await produce(writer, REQ)
    await writer.aclose()
    assert outcome.attempts == 2
    assert outcome.warnings == []
    assert "$349,990" in outcome.content["facebook_text"]
    assert outcome.usage_tokens == sum(r.usage_total for r in fake_openai.requests)
    retry_prompt = fake_openai.requests[1].user_prompt
    assert "Correct these facts" in retry_prompt
    assert "$359,990" in retry_prompt and "4 bedrooms" in retry_prompt
    assert "PREVIOUS VERSION (JSON):" in retry_prompt


async def test_still_wrong_after_one_regeneration_is_kept_with_warnings(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script("wrong_facts", "wrong_facts", "good")
    writer = _writer(fake_openai)
    outcome = await produce(writer, REQ)
    await writer.aclose()
    assert outcome.attempts == 2
    assert len(fake_openai.requests) == 2  # no third try
    facts = [w for w in outcome.warnings if w.kind == "facts"]
    assert {w.phrase for w in facts} == {"$359,990", "4 bedrooms"}
    assert {w.suggestion for w in facts} == {"$349,990", "3 bedrooms"}


async def test_failed_regeneration_keeps_the_first_draft_with_warnings(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script("wrong_facts", "server_error")
    writer = _writer(fake_openai)
    outcome = await produce(writer, REQ)
    await writer.aclose()
    assert outcome.attempts == 1
    assert any(w.kind == "facts" for w in outcome.warnings)


async def test_flagged_phrases_come_back_as_warnings(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("flagged_phrase")
    writer = _writer(fake_openai)
    outcome = await produce(writer, REQ)
    await writer.aclose()
    fair = {w.phrase: w.suggestion for w in outcome.warnings if w.kind == "fair_housing"}
    assert fair.keys() == {"Perfect for young families", "master bedroom"}
    assert fair["master bedroom"] == "primary bedroom"
    assert outcome.attempts == 1  # fair housing is flagged for the agent, not regenerated


async def test_missing_disclosure_is_added(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("no_disclosure")
    writer = _writer(fake_openai)
    outcome = await produce(writer, REQ)
    await writer.aclose()
    assert "Equal Housing Opportunity" not in (fake_openai.requests[0].answer or "")
    for key in ("facebook_text", "instagram_text"):
        assert "Sunshine Realty" in outcome.content[key]
        assert "Equal Housing Opportunity" in outcome.content[key]
    assert outcome.content["instagram_text"].rstrip().split("\n\n")[-1].startswith("#")
    assert outcome.warnings == []


async def test_instagram_over_the_limits_is_fixed_and_warned(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("too_many_hashtags")
    writer = _writer(fake_openai)
    outcome = await produce(writer, REQ)
    await writer.aclose()
    caption = outcome.content["instagram_text"]
    assert len(caption) <= 2200 and count_hashtags(caption) <= 30
    assert "Equal Housing Opportunity" in caption
    assert len(outcome.content["hashtags"]) == 30
    assert {w.kind for w in outcome.warnings} == {"limits"}


async def test_write_failure_propagates(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("auth_error")
    writer = _writer(fake_openai)
    try:
        await produce(writer, REQ)
    except GenerationFailed as exc:
        assert exc.retryable is False
    else:
        raise AssertionError("expected GenerationFailed")
    finally:
        await writer.aclose()


async def test_builtin_draft_with_the_agents_own_numbers_is_not_regenerated() -> None:
    calls: list[WriteRequest] = []

    class Counting(BuiltinWriter):
        async def write(self, req: WriteRequest) -> WriteResult:
            calls.append(req)
            return await super().write(req)

    writer = Counting()
    first = (await writer.write(REQ)).content
    req = WriteRequest(
        "social_media_post",
        "revision",
        BASE,
        AGENT,
        previous=first,
        feedback='CTA: "Call me about the $5,000 closing credit"',
    )
    calls.clear()
    outcome = await produce(writer, req)
    assert len(calls) == 1 and outcome.attempts == 1
    assert [w.phrase for w in outcome.warnings] == ["$5,000"]


async def test_price_improvement_may_mention_the_old_price() -> None:
    req = WriteRequest("social_media_post", "price_improvement", PRICE_DROP, AGENT)
    outcome = await produce(BuiltinWriter(), req)
    assert outcome.warnings == []
    assert "$359,990" in outcome.content["facebook_text"]


async def test_agent_without_brokerage_gets_the_disclosure_warning(fake_openai: FakeOpenAI) -> None:
    writer = _writer(fake_openai)
    outcome = await produce(
        writer, WriteRequest("social_media_post", "new_listing", BASE, AGENT_NO_COMPANY)
    )
    await writer.aclose()
    assert [w.kind for w in outcome.warnings] == ["disclosure"]


async def test_slow_writer_latency_is_respected(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Behaviour("good", latency_s=0.2))
    writer = _writer(fake_openai)
    outcome = await produce(writer, REQ)
    await writer.aclose()
    record = fake_openai.requests[0]
    assert record.finished - record.started >= 0.2
    assert outcome.attempts == 1


async def test_sold_or_off_market_homes_get_no_draft() -> None:
    from dataclasses import replace

    for status in ("sold", "off_market"):
        req = WriteRequest("social_media_post", "new_listing", replace(BASE, status=status), AGENT)
        try:
            await produce(BuiltinWriter(), req)
        except GenerationFailed as exc:
            assert exc.retryable is False
            assert "no draft was written" in exc.reason
        else:
            raise AssertionError(f"a {status} home got a draft")
