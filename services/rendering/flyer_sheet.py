"""What one printed flyer says: plain values, ready for the PDF and the preview."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from services.generation.content import FlyerText
from services.generation.listing_facts import AgentProfile, ListingFacts

DEFAULT_BUILDER = "Holiday Builders"

# A bullet that only restates beds, baths, area or garage: the facts line under the price
# already says it, and a printed page that says it twice reads like filler.
_FACT_BULLET = re.compile(
    r"^\s*[\d.,]+\+?\s*(?:-\s*)?"
    r"(?:bed(?:room)?s?|bath(?:room)?s?|full baths?|half baths?|sq\.?\s*ft\.?|square feet|"
    r"car garage)(?:\s+of\s+living\s+space)?\s*$",
    re.IGNORECASE,
)


def restates_facts_line(bullet: str) -> bool:
    """Whether a bullet says nothing but one of the numbers the facts line shows."""
    return _FACT_BULLET.match(bullet) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class FlyerSheet:
    """One flyer page. Text is plain (no markup); `photo` is the main photo's file bytes."""

    address: str
    city: str
    state: str
    zip_code: str
    price: Decimal | None
    beds: int | None = None
    baths: Decimal | None = None
    sqft: int | None = None
    garage: int | None = None
    community: str | None = None
    plan_name: str | None = None
    headline: str
    subheadline: str = ""
    bullets: tuple[str, ...] = ()
    description: str = ""
    call_to_action: str = ""
    agent_name: str
    agent_phone: str | None = None
    agent_email: str
    brokerage: str | None = None
    builder_name: str = DEFAULT_BUILDER
    license_number: str | None = None
    listing_url: str | None = None
    photo: bytes | None = None


def flyer_sheet(
    facts: ListingFacts,
    text: FlyerText,
    agent: AgentProfile,
    *,
    builder_name: str = DEFAULT_BUILDER,
    license_number: str | None = None,
    photo: bytes | None = None,
) -> FlyerSheet:
    """The sheet for a written flyer: facts from the listing, words from the writer."""
    return FlyerSheet(
        address=facts.address,
        city=facts.city,
        state=facts.state,
        zip_code=facts.zip_code,
        price=facts.price,
        beds=facts.beds,
        baths=facts.baths,
        sqft=facts.sqft,
        garage=facts.garage,
        community=facts.community,
        plan_name=facts.plan_name,
        headline=text.headline,
        subheadline=text.subheadline,
        bullets=tuple(b for b in text.bullets if not restates_facts_line(b)),
        description=text.description,
        call_to_action=text.call_to_action,
        agent_name=agent.name,
        agent_phone=agent.phone,
        agent_email=agent.email,
        brokerage=agent.company,
        builder_name=builder_name,
        license_number=license_number,
        listing_url=facts.source_url,
        photo=photo,
    )
