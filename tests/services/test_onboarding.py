"""Agents, invites and linking a Telegram account."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import agents as agents_repo
from services.context import Database
from services.errors import ConflictError, InvalidInputError, ServiceError
from services.onboarding import add_agent, create_invite, redeem_invite


async def test_add_agent_validates(session: AsyncSession) -> None:
    with pytest.raises(InvalidInputError):
        await add_agent(session, email="not-an-email", name="X")
    with pytest.raises(InvalidInputError):
        await add_agent(session, email="a@b.co", name="  ")
    await add_agent(session, email="a@b.co", name="A")
    with pytest.raises(ConflictError):
        await add_agent(session, email="A@B.co", name="Again")


async def test_invite_links_once(session: AsyncSession) -> None:
    new = await add_agent(session, email="a@b.co", name="A")
    linked = await redeem_invite(session, token=new.invite_token, telegram_user_id=5, chat_id=5)
    assert linked.agent.id == new.agent.id and linked.agent.telegram_chat_id == 5
    with pytest.raises(InvalidInputError):
        await redeem_invite(session, token=new.invite_token, telegram_user_id=6, chat_id=6)


async def test_telegram_account_linked_elsewhere_is_refused(session: AsyncSession) -> None:
    first = await add_agent(session, email="a@b.co", name="A")
    await redeem_invite(session, token=first.invite_token, telegram_user_id=5, chat_id=5)
    second = await add_agent(session, email="c@d.co", name="C")
    with pytest.raises(ConflictError):
        await redeem_invite(session, token=second.invite_token, telegram_user_id=5, chat_id=5)


async def test_two_redemptions_at_once_link_one_account(database: Database) -> None:
    async with database.unit_of_work() as s:
        new = await add_agent(s, email="race@b.co", name="Race")
        token = await create_invite(s, new.agent.id)

    async def redeem(uid: int) -> bool:
        try:
            async with database.unit_of_work() as s:
                await redeem_invite(s, token=token, telegram_user_id=uid, chat_id=uid)
            return True
        except ServiceError:
            return False

    results = await asyncio.gather(*(redeem(100 + i) for i in range(4)))
    assert sum(results) == 1


async def test_new_agent_and_new_areas_get_homes_already_on_the_market(
    session: AsyncSession,
) -> None:
    from sqlalchemy import select

    from db.models import AgentListing
    from services.agent_admin import parse_areas_command, set_areas
    from tests.factories import make_listing

    ocala = await make_listing(session, city="Ocala", community="Marion Oaks")
    await make_listing(session, city="Tampa", community="Bay Point")
    await make_listing(session, city="Ocala", status="sold")
    new = await add_agent(session, email="a@b.co", name="A")

    async def mine() -> set[object]:
        rows = await session.execute(
            select(AgentListing.listing_id).where(AgentListing.agent_id == new.agent.id)
        )
        return set(rows.scalars())

    assert len(await mine()) == 2  # no areas: every home on the market, not the sold one
    # an agent with no homes yet (created directly) gets exactly what matches their area
    other = await agents_repo.create_agent(session, email="c@d.co", name="C")
    await set_areas(session, parse_areas_command("c@d.co city:ocala"))
    rows = await session.execute(
        select(AgentListing.listing_id).where(AgentListing.agent_id == other.id)
    )
    assert set(rows.scalars()) == {ocala.id}
