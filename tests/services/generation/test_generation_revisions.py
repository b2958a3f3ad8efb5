"""Built-in revisions: feedback it understands is applied, earlier changes survive, and what it
cannot do is said plainly in the note."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.generation.builtin_style import parse_feedback, split_clauses
from services.generation.builtin_writer import BuiltinWriter
from services.generation.checks.fact_check import check_facts
from services.generation.checks.limits import count_hashtags
from services.generation.listing_facts import ListingFacts
from services.generation.pipeline import produce
from services.generation.writer import WriteRequest, WriteResult
from tests.services.generation.gen_listings import AGENT, AGENT_NO_PHONE, BASE, LISTINGS, PRICE_DROP

EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
WRITER = BuiltinWriter()


async def _new(facts: ListingFacts = BASE, kind: str = "social_media_post", **kw: Any) -> dict:
    purpose = "flyer" if kind == "flyer_text" else "new_listing"
    req = WriteRequest(kind, purpose, facts, kw.pop("agent", AGENT), **kw)  # type: ignore[arg-type]
    return (await WRITER.write(req)).content


async def _revise(
    previous: dict,
    feedback: str,
    facts: ListingFacts = BASE,
    kind: str = "social_media_post",
    agent: Any = AGENT,
) -> WriteResult:
    req = WriteRequest(kind, "revision", facts, agent, previous=previous, feedback=feedback)  # type: ignore[arg-type]
    return await WRITER.write(req)


def test_feedback_is_split_into_requests() -> None:
    assert split_clauses("Make it shorter and remove the emojis. Thanks!") == [
        "Make it shorter",
        "remove the emojis",
    ]
    plan = parse_feedback("shorter, no emoji, mention the lanai, and make it rhyme")
    assert plan.length_step == -1 and plan.emoji_none
    assert plan.mention == ["lanai"]
    assert plan.not_understood == ["make it rhyme"]


async def test_shorter_and_longer() -> None:
    base = await _new()
    short = await _revise(base, "Too long, make it shorter please")
    long = await _revise(base, "Can you add more detail?")
    assert len(short.content["body"]) < len(base["body"]) < len(long.content["body"])
    assert short.note is None and long.note is None
    assert "$349,990" in short.content["body"] and "3 bedrooms" in short.content["body"]


async def test_no_emoji_then_more_emoji() -> None:
    base = await _new()
    plain = (await _revise(base, "no emojis please")).content
    assert not any(EMOJI.search(plain[k]) for k in ("instagram_text", "facebook_text", "headline"))
    more = (await _revise(base, "add more emojis")).content
    assert len(EMOJI.findall(more["instagram_text"])) > len(EMOJI.findall(base["instagram_text"]))


async def test_hashtags_added_removed_and_dropped() -> None:
    base = await _new()
    added = (await _revise(base, "add #OcalaLiving and #StoneCreekLife")).content
    assert {"#OcalaLiving", "#StoneCreekLife"} <= set(added["hashtags"])
    assert "#OcalaLiving" in added["instagram_text"]
    gone = (await _revise(added, "remove #JustListed")).content
    assert "#JustListed" not in gone["hashtags"] and "#JustListed" not in gone["instagram_text"]
    assert "#OcalaLiving" in gone["hashtags"]  # the earlier addition survives
    none = (await _revise(base, "no hashtags")).content
    assert none["hashtags"] == [] and count_hashtags(none["instagram_text"]) == 0
    fewer = (await _revise(base, "fewer hashtags")).content
    assert 0 < len(fewer["hashtags"]) < len(base["hashtags"])
    more = (await _revise(base, "more hashtags")).content
    assert len(more["hashtags"]) > len(base["hashtags"])


async def test_mention_a_listed_feature_by_name() -> None:
    base = await _new()
    assert "lanai" not in base["body"].lower()
    result = await _revise(base, "Please mention the covered lanai")
    assert "lanai" in result.content["body"].lower()
    assert "lanai" in result.content["instagram_text"].lower()
    assert result.note is None


async def test_a_feature_not_in_the_listing_is_never_invented() -> None:
    base = await _new()
    result = await _revise(base, "mention the private boat dock")
    text = " ".join(str(v) for v in result.content.values()).lower()
    assert "dock" not in text
    assert result.note is not None
    assert "private boat dock" in result.note and "listing" in result.note


async def test_call_to_action_changes() -> None:
    base = await _new()
    email = (await _revise(base, "use email for the call to action")).content
    assert "jane@sunshinerealty.com" in email["call_to_action"]
    assert "555-0123" not in email["call_to_action"]
    quoted = await _revise(base, 'Change the CTA to "Message me today for a private tour"')
    assert quoted.content["call_to_action"] == "Message me today for a private tour."
    assert "Message me today for a private tour." in quoted.content["facebook_text"]
    assert "Message me today for a private tour." in quoted.content["instagram_text"]
    no_phone = await _revise(
        await _new(agent=AGENT_NO_PHONE), "ask them to text me", agent=AGENT_NO_PHONE
    )
    assert "sam@gulfcoasthomes.com" in no_phone.content["call_to_action"]
    assert no_phone.note and "no phone number" in no_phone.note


async def test_formal_and_casual_tone() -> None:
    base = await _new()
    formal = (await _revise(base, "make it more professional")).content
    casual = (await _revise(base, "make it more fun and casual")).content
    assert "!" not in formal["body"]
    assert casual["body"].count("!") >= 1
    assert formal["body"] != base["body"] != casual["body"]


async def test_hide_and_show_the_price() -> None:
    base = await _new()
    hidden = (await _revise(base, "don't mention the price")).content
    assert "$" not in " ".join(str(v) for v in hidden.values())
    shown = (await _revise(hidden, "add the price back")).content
    assert "$349,990" in shown["facebook_text"]


async def test_earlier_changes_survive_later_revisions() -> None:
    v1 = await _new()
    v2 = (await _revise(v1, "no emojis, mention the lanai, add #OcalaLiving")).content
    v3 = (await _revise(v2, "make it more formal")).content
    v4 = (await _revise(v3, "shorter")).content
    for version in (v3, v4):
        assert not EMOJI.search(version["instagram_text"])
        assert "lanai" in version["body"].lower()
        assert "#OcalaLiving" in version["hashtags"]
        assert "!" not in version["body"]
    assert len(v4["body"]) < len(v3["body"])


async def test_a_different_version_on_request() -> None:
    base = await _new()
    other = (await _revise(base, "try a different opening")).content
    assert other["body"].split(".")[0] != base["body"].split(".")[0]


async def test_unclear_feedback_is_reported_plainly() -> None:
    base = await _new()
    result = await _revise(base, "make it rhyme like a poem")
    assert result.note is not None
    assert result.note.startswith("The built-in writer couldn't apply")
    assert "make it rhyme like a poem" in result.note
    assert "unchanged" in result.note
    assert result.content == base


async def test_partly_understood_feedback_applies_the_rest() -> None:
    base = await _new()
    result = await _revise(base, "shorter; write it in Spanish")
    assert len(result.content["body"]) < len(base["body"])
    assert result.note and "write it in Spanish" in result.note
    assert "unchanged" not in result.note


async def test_flyer_revision_explains_emoji_and_hashtags_do_not_apply() -> None:
    base = await _new(kind="flyer_text")
    result = await _revise(
        base, "no emojis and add #OcalaHomes, make it shorter", kind="flyer_text"
    )
    assert len(result.content["bullets"]) <= len(base["bullets"])
    assert result.note and "flyer text has no emoji" in result.note
    assert "flyer text has no hashtags" in result.note


async def test_price_improvement_revision_keeps_was_now() -> None:
    req = WriteRequest("social_media_post", "price_improvement", PRICE_DROP, AGENT)
    base = (await WRITER.write(req)).content
    result = await _revise(base, "shorter", facts=PRICE_DROP)
    assert "$359,990" in result.content["facebook_text"]
    assert check_facts(result.content, PRICE_DROP, allow_previous_price=True) == []


@pytest.mark.parametrize("facts", LISTINGS, ids=lambda f: f.source_id)
async def test_revisions_pass_the_checks_for_every_listing(facts: ListingFacts) -> None:
    base = await _new(facts)
    req = WriteRequest(
        "social_media_post",
        "revision",
        facts,
        AGENT,
        previous=base,
        feedback="more casual, mention the clubhouse, no emoji",
    )
    outcome = await produce(WRITER, req)
    assert outcome.warnings == []
    assert not EMOJI.search(outcome.content["instagram_text"])


async def test_add_a_sentence_about_a_listed_feature() -> None:
    base = await _new()
    result = await _revise(base, "add a sentence about the pool")
    assert "resort-style pool" in result.content["body"].lower()
    assert result.note is None


async def test_dropping_a_feature_and_reporting_what_cannot_be_dropped() -> None:
    base = await _new()
    assert "quartz countertops" in base["body"]
    result = await _revise(base, "don't mention the quartz countertops")
    assert "quartz" not in str(result.content).lower()
    assert result.note is None
    stuck = await _revise(base, "don't mention Stone Creek")
    assert stuck.note and "removing “Stone Creek”" in stuck.note
