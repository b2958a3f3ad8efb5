"""From a write request to a checked draft: write, fix, check, and regenerate once if needed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from services.generation.builtin_writer import WRITER_NAME as BUILTIN_WRITER_NAME
from services.generation.checks.disclosure import apply_disclosure
from services.generation.checks.fact_check import check_facts
from services.generation.checks.fair_housing import check_fair_housing
from services.generation.checks.limits import apply_limits
from services.generation.checks.warning import CheckWarning
from services.generation.content import content_from_json, content_to_json
from services.generation.writer import GenerationFailed, Writer, WriteRequest, WriteResult

log = logging.getLogger(__name__)

UNSELLABLE_STATUSES = frozenset({"sold", "off_market"})


@dataclass(frozen=True, slots=True)
class DraftOutcome:
    """A draft ready to show the agent, with everything they should know about it."""

    content: dict[str, Any]
    warnings: list[CheckWarning]
    writer: str
    usage_tokens: int
    note: str | None
    attempts: int


async def produce(writer: Writer, req: WriteRequest) -> DraftOutcome:
    """Write → disclosure fix → limits fix → facts check (one regeneration on a mismatch) →
    fair housing flags. Raises GenerationFailed when the first write fails, or when the home is
    no longer for sale (a post would advertise something that is not true)."""
    # A `just sold` post is the one draft a home off the market gets.
    if req.facts.status in UNSELLABLE_STATUSES and req.moment != "just_sold":
        state = req.facts.status.replace("_", " ")
        raise GenerationFailed(
            f"{req.facts.address} is {state}, so no draft was written.", retryable=False
        )
    result = await writer.write(req)
    content, fixes = _fix(req, result)
    fact_warnings = _facts(req, content)
    attempts, tokens, note, name = 1, result.usage_tokens, result.note, result.writer

    # The built-in writer only states listing facts, so a mismatch in its draft comes from the
    # agent's own words (a custom call to action), which a rewrite must keep: no regeneration.
    if fact_warnings and result.writer != BUILTIN_WRITER_NAME:
        retry = replace(
            req,
            previous=content,
            feedback=_correction(req.feedback, fact_warnings),
            variant_seed=req.variant_seed + 1,
        )
        try:
            second = await writer.write(retry)
        except GenerationFailed as exc:
            log.warning("regeneration after a facts mismatch failed: %s", exc.reason)
        else:
            attempts += 1
            tokens += second.usage_tokens
            content2, fixes2 = _fix(req, second)
            fact_warnings2 = _facts(req, content2)
            # Keep the better of the two; on a tie the newer one.
            if len(fact_warnings2) <= len(fact_warnings):
                content, fixes, fact_warnings = content2, fixes2, fact_warnings2
                note, name = second.note, second.writer

    fair = check_fair_housing(content, age_restricted=req.facts.age_restricted)
    return DraftOutcome(
        content=content,
        warnings=[*fact_warnings, *fair, *fixes],
        writer=name,
        usage_tokens=tokens,
        note=note,
        attempts=attempts,
    )


def _fix(req: WriteRequest, result: WriteResult) -> tuple[dict[str, Any], list[CheckWarning]]:
    content = content_to_json(content_from_json(req.kind, result.content))
    content, disclosure_warnings = apply_disclosure(req.kind, content, req.agent)
    content, limit_warnings = apply_limits(req.kind, content)
    return content, [*disclosure_warnings, *limit_warnings]


def _facts(req: WriteRequest, content: dict[str, Any]) -> list[CheckWarning]:
    return check_facts(
        content,
        req.facts,
        agent=req.agent,
        allow_previous_price=_mentions_previous_price(req),
    )


def _mentions_previous_price(req: WriteRequest) -> bool:
    if req.facts.previous_price is None:
        return False
    if req.purpose == "price_improvement":
        return True
    # A revision or flyer of a price-improvement post may keep its "was $X".
    return req.purpose in ("revision", "flyer")


def _correction(feedback: str | None, warnings: list[CheckWarning]) -> str:
    fixes = " ".join(
        f"{w.message} (Suggested fix: {w.suggestion})" if w.suggestion else w.message
        for w in warnings
    )
    correction = f"Correct these facts, changing nothing else: {fixes}"
    return f"{feedback.strip()}\n\n{correction}" if feedback and feedback.strip() else correction
