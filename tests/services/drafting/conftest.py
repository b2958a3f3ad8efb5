"""Fixtures for the drafts service: the bot harness (re-used from tests/bot), a variant
wired to the fake OpenAI server, and small row builders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Agent,
    AgentListing,
    ContentPiece,
    ContentVersion,
    Listing,
    ListingPriceChange,
    Notification,
)
from services.context import Database
from tests.bot.conftest import BotHarness, harness, running_bot  # noqa: F401 (fixture)
from tests.factories import make_agent, make_listing
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def openai_harness(
    database: Database, tmp_path: Path, fake_openai: FakeOpenAI
) -> AsyncIterator[tuple[BotHarness, FakeOpenAI]]:
    """The real bot with OPENAI_API_KEY set, talking to the fake OpenAI server."""
    async with running_bot(
        database,
        tmp_path,
        openai_api_key="sk-test",
        openai_base_url=fake_openai.base_url,
        openai_model="gpt-4o-mini",
    ) as h:
        yield h, fake_openai


async def assign(session: AsyncSession, agent: Agent, listing: Listing, **values: Any) -> None:
    """Assign a listing to an agent (what the scrape does for matching service areas)."""
    session.add(AgentListing(agent_id=agent.id, listing_id=listing.id, **values))
    await session.flush()


async def new_home(database: Database, *agents: Agent, **listing_values: Any) -> Listing:
    """A committed listing assigned to these agents."""
    async with database.unit_of_work() as s:
        listing = await make_listing(s, **listing_values)
        for agent in agents:
            await assign(s, agent, listing)
    return listing


async def agents(database: Database, n: int, **values: Any) -> list[Agent]:
    """n committed agents."""
    out = []
    async with database.unit_of_work() as s:
        for _ in range(n):
            out.append(await make_agent(s, **values))
    return out


async def drop_price(database: Database, listing: Listing, new: str) -> tuple[Decimal, Decimal]:
    """Change the listing's price and record the history row, as the scrape does."""
    async with database.unit_of_work() as s:
        row = await s.get(Listing, listing.id)
        assert row is not None and row.price is not None
        old, new_price = row.price, Decimal(new)
        row.price = new_price
        s.add(ListingPriceChange(listing_id=listing.id, old_price=old, new_price=new_price))
    return old, new_price


async def pieces(database: Database, **where: Any) -> list[ContentPiece]:
    async with database.unit_of_work() as s:
        stmt = select(ContentPiece).order_by(ContentPiece.created_at)
        for key, value in where.items():
            stmt = stmt.where(getattr(ContentPiece, key) == value)
        return list((await s.execute(stmt)).scalars().all())


async def versions(database: Database, piece_id: object) -> list[ContentVersion]:
    async with database.unit_of_work() as s:
        stmt = (
            select(ContentVersion)
            .where(ContentVersion.content_piece_id == piece_id)
            .order_by(ContentVersion.version)
        )
        return list((await s.execute(stmt)).scalars().all())


async def notifications(database: Database) -> list[Notification]:
    async with database.unit_of_work() as s:
        stmt = select(Notification).order_by(Notification.created_at)
        return list((await s.execute(stmt)).scalars().all())
