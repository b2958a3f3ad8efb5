"""Small builders of committed-or-flushed rows for tests (any backend)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, ContentPiece, Listing, SocialMediaAccount
from db.repositories import accounts, agents, content, listings
from db.status import ContentPurpose, ContentStatus, ContentType

_seq = itertools.count(1)


async def make_agent(session: AsyncSession, **values: Any) -> Agent:
    n = next(_seq)
    tg = values.pop("telegram_user_id", 10_000 + n)
    agent = await agents.create_agent(
        session,
        email=values.pop("email", f"agent{n}@example.com"),
        name=values.pop("name", f"Agent {n}"),
        company=values.pop("company", "Sunrise Realty"),
        phone=values.pop("phone", "352-555-0100"),
    )
    values.setdefault("telegram_chat_id", tg)
    await agents.update_agent(session, agent.id, telegram_user_id=tg, **values)
    await session.refresh(agent)
    return agent


async def make_listing(session: AsyncSession, **values: Any) -> Listing:
    n = next(_seq)
    base: dict[str, Any] = {
        "source_id": f"home-{n}",
        "source_url": f"https://holidaybuilders.com/new-homes-for-sale/home-{n}/",
        "address": f"{100 + n} SW Oak Trail",
        "city": "Ocala",
        "state": "FL",
        "zip_code": "34473",
        "price": Decimal("349990"),
        "beds": 3,
        "baths": Decimal("2"),
        "sqft": 1850,
        "garage": 2,
        "plan_name": "Sanibel",
        "community": "Marion Oaks",
        "key_features": ["Clubhouse", "Open floor plan"],
        "image_urls": [f"https://holidaybuilders.com/wp-content/uploads/home-{n}.jpg"],
    }
    base.update(values)
    return await listings.create_listing(session, **base)


async def make_piece(
    session: AsyncSession,
    agent: Agent,
    listing: Listing | None = None,
    *,
    status: str = ContentStatus.PENDING_APPROVAL_AGENT,
    **values: Any,
) -> ContentPiece:
    listing = listing or await make_listing(session)
    text = values.pop(
        "generated_text",
        {
            "headline": "New home in Ocala",
            "body": "3 bed, 2 bath, 1,850 sq ft for $349,990.",
            "hashtags": ["#Ocala"],
            "call_to_action": "Call me",
            "facebook_text": "New home in Ocala. Sunrise Realty. Equal Housing Opportunity.",
            "instagram_text": "New home in Ocala #Ocala Sunrise Realty. Equal Housing Opportunity.",
        },
    )
    return await content.create_content_piece(
        session,
        listing_id=listing.id,
        agent_id=agent.id,
        content_type=values.pop("content_type", ContentType.SOCIAL_MEDIA_POST),
        generated_text=text,
        status=status,
        purpose=values.pop("purpose", ContentPurpose.NEW_LISTING),
        associated_image_urls=list(listing.image_urls or []),
        writer="builtin",
        event_key=values.pop("event_key", None),
    )


async def make_account(
    session: AsyncSession, agent: Agent, platform: str = "facebook", **values: Any
) -> SocialMediaAccount:
    n = next(_seq)
    return await accounts.create_account(
        session,
        agent_id=agent.id,
        platform=platform,
        account_id=values.pop("account_id", f"{platform}-{n}"),
        access_token_encrypted=values.pop("access_token_encrypted", "encrypted"),
        display_name=values.pop("display_name", f"{platform.title()} page {n}"),
        **values,
    )
