"""Admin changes to agents: parsing /areas and /marketing, storing them."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AgentServiceArea
from services import agent_admin as svc
from services.errors import InvalidInputError
from tests.factories import make_agent


@pytest.mark.parametrize(
    ("text", "areas"),
    [
        (
            'a@x.com city:Ocala community:"Marion Oaks"',
            [("city", "Ocala"), ("community", "Marion Oaks")],
        ),
        (
            "a@x.com community:Marion Oaks city:Ocala",
            [("community", "Marion Oaks"), ("city", "Ocala")],
        ),
        ("a@x.com community:“Marion Oaks”", [("community", "Marion Oaks")]),
        ("a@x.com City: Ocala, Belleview", [("city", "Ocala"), ("city", "Belleview")]),
        ("a@x.com community:'St. John's Village'", [("community", "St. John's Village")]),
        ("a@x.com community:Devil's Den", [("community", "Devil's Den")]),
        ("a@x.com city:Ocala city:Ocala", [("city", "Ocala")]),
        ("a@x.com all", []),
        ("a@x.com  ALL ", []),
    ],
)
def test_parse_areas(text: str, areas: list[tuple[str, str]]) -> None:
    command = svc.parse_areas_command(text)
    assert command.email == "a@x.com"
    assert list(command.areas) == areas


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "/areas <email>"),
        ("city:Ocala", "Start with the agent's email"),
        ("a@x.com", "Start each area with"),
        ("a@x.com Ocala city:Ocala", "Start each area with"),
        ("a@x.com zip:34473", "Start each area with"),
        ("a@x.com city: community:Oaks", "city: needs a name"),
        ("a@x.com city:" + "x" * 201, "too long"),
    ],
)
def test_parse_areas_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        svc.parse_areas_command(text)
    assert message in err.value.message


def test_parse_on_off() -> None:
    assert svc.parse_on_off(" ON ") is True and svc.parse_on_off("yes") is True
    assert svc.parse_on_off("off") is False and svc.parse_on_off("No") is False
    with pytest.raises(InvalidInputError):
        svc.parse_on_off("maybe")


async def test_set_areas_replaces_and_clears(session: AsyncSession) -> None:
    agent = await make_agent(session, email="chris@example.com")

    async def stored() -> set[tuple[str, str]]:
        rows = await session.execute(
            select(AgentServiceArea.kind, AgentServiceArea.value).where(
                AgentServiceArea.agent_id == agent.id
            )
        )
        return {(k, v) for k, v in rows.all()}

    change = await svc.set_areas(
        session, svc.parse_areas_command('CHRIS@example.com city:Ocala community:"Marion Oaks"')
    )
    assert change.email == "chris@example.com"
    assert change.service_areas == (("city", "ocala"), ("community", "marion oaks"))
    assert await stored() == {("city", "ocala"), ("community", "marion oaks")}
    await svc.set_areas(session, svc.parse_areas_command("chris@example.com city:Dunnellon"))
    assert await stored() == {("city", "dunnellon")}
    change = await svc.set_areas(session, svc.parse_areas_command("chris@example.com all"))
    assert change.service_areas == () and await stored() == set()
    with pytest.raises(InvalidInputError) as err:
        await svc.set_areas(session, svc.parse_areas_command("ghost@example.com city:Ocala"))
    assert "No agent has the email ghost@example.com" in err.value.message


async def test_set_marketing_approval(session: AsyncSession) -> None:
    agent = await make_agent(session, email="chris@example.com")
    change = await svc.set_marketing_approval(session, email="chris@example.com", required=True)
    assert change.requires_marketing_approval is True
    await session.refresh(agent)
    assert agent.requires_marketing_approval is True
    await svc.set_marketing_approval(session, email="chris@example.com", required=False)
    await session.refresh(agent)
    assert agent.requires_marketing_approval is False
