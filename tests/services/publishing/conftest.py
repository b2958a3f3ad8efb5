"""Fixtures: the fake Graph API, real aiohttp Graph resources, approved posts in the database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Agent, ContentPiece, Notification, PostSchedule, SocialMediaAccount
from db.repositories import approval as approval_repo
from db.status import ContentStatus
from services.context import Database
from services.publishing.graph_resources import GraphResources
from tests.factories import make_account, make_agent, make_listing, make_piece
from tests.fakes.graph_api import FakeGraphApi

PAGE_ID = "104857392018374"
PAGE_TOKEN = "EAAGpageTokenForSunnyHomes0123456789abcdefghijklmnop"
IG_ID = "17841400000000001"
IG_TOKEN = "IGAAuserTokenForSunnyHomes0123456789abcdefghijklmnop"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraphApi]:
    async with FakeGraphApi() as server:
        server.add_page(PAGE_ID, PAGE_TOKEN, "Sunny Homes")
        server.add_ig_user(IG_ID, IG_TOKEN, "sunnyhomes", "Sunny Homes")
        yield server


@pytest.fixture
async def graph(fake: FakeGraphApi) -> AsyncIterator[GraphResources]:
    resources = GraphResources.open(
        fake.base_url,
        listings_base_url=fake.root_url,  # the fake serves the photos, as the builder's site does
        timeout_s=3,
        max_retries=1,
        backoff_base_s=0.01,
        poll_interval_s=0.01,
        poll_timeout_s=2,
    )
    try:
        yield resources
    finally:
        await resources.aclose()


@dataclass
class Seeded:
    """An approved post and its schedule rows."""

    agent_id: uuid.UUID
    piece_id: uuid.UUID
    schedule_ids: list[uuid.UUID] = field(default_factory=list)
    account_pks: dict[str, uuid.UUID] = field(default_factory=dict)


async def seed_post(
    database: Database,
    fake: FakeGraphApi,
    *,
    platforms: Sequence[str] = ("facebook", "instagram"),
    image_urls: Sequence[str] | None = None,
    at: datetime | None = None,
    agent_id: uuid.UUID | None = None,
    accounts: dict[str, uuid.UUID] | None = None,
    text: str = "New home in Ocala",
) -> Seeded:
    """An approved piece with one pending row per platform, due at `at` (default now)."""
    if image_urls is None:
        image_urls = [fake.add_jpeg(f"home-{uuid.uuid4().hex[:8]}.jpg", 1080, 1080)]
    cipher = database.cipher
    async with database.unit_of_work() as s:
        if agent_id is None:
            agent = await make_agent(s)
        else:
            found = await s.get(Agent, agent_id)
            assert found is not None
            agent = found
        listing = await make_listing(s, image_urls=list(image_urls))
        piece = await make_piece(
            s,
            agent,
            listing,
            status=ContentStatus.APPROVED_FOR_POSTING,
            generated_text={
                "headline": "New home",
                "body": "3 bed",
                "hashtags": ["#Ocala"],
                "facebook_text": f"{text} (Facebook)",
                "instagram_text": f"{text} (Instagram) #Ocala",
            },
        )
        seeded = Seeded(agent.id, piece.id)
        slots = []
        for platform in platforms:
            if accounts and platform in accounts:
                account_pk = accounts[platform]
            else:
                acc = await make_account(
                    s,
                    agent,
                    platform,
                    account_id=PAGE_ID if platform == "facebook" else IG_ID,
                    access_token_encrypted=cipher.encrypt(
                        PAGE_TOKEN if platform == "facebook" else IG_TOKEN
                    ),
                    display_name="Sunny Homes" if platform == "facebook" else "@sunnyhomes",
                )
                account_pk = acc.id
            seeded.account_pks[platform] = account_pk
            slots.append((account_pk, at or utcnow()))
        await approval_repo.insert_schedule_rows(await s.connection(), piece.id, slots)
        rows = (
            (
                await s.execute(
                    select(PostSchedule.id).where(PostSchedule.content_piece_id == piece.id)
                )
            )
            .scalars()
            .all()
        )
        seeded.schedule_ids = list(rows)
    return seeded


async def connect_both(database: Database, session: AsyncSession, agent: Agent) -> None:
    """The agent's Facebook Page and Instagram account of the fake Graph, tokens encrypted."""
    for platform, account_id, token in (
        ("facebook", PAGE_ID, PAGE_TOKEN),
        ("instagram", IG_ID, IG_TOKEN),
    ):
        await make_account(
            session,
            agent,
            platform,
            account_id=account_id,
            access_token_encrypted=database.cipher.encrypt(token),
        )


async def rows_of(database: Database, piece_id: uuid.UUID) -> list[PostSchedule]:
    async with database.unit_of_work() as s:
        result = await s.execute(
            select(PostSchedule)
            .where(PostSchedule.content_piece_id == piece_id)
            .order_by(PostSchedule.created_at)
        )
        return list(result.scalars().all())


async def piece_of(database: Database, piece_id: uuid.UUID) -> ContentPiece:
    async with database.unit_of_work() as s:
        piece = await s.get(ContentPiece, piece_id)
    assert piece is not None
    return piece


async def notes_of(database: Database, agent_id: uuid.UUID) -> list[Notification]:
    async with database.unit_of_work() as s:
        result = await s.execute(
            select(Notification)
            .where(Notification.agent_id == agent_id)
            .order_by(Notification.created_at)
        )
        return list(result.scalars().all())


async def account_row(database: Database, account_pk: uuid.UUID) -> SocialMediaAccount:
    async with database.unit_of_work() as s:
        row = await s.get(SocialMediaAccount, account_pk)
    assert row is not None
    return row
