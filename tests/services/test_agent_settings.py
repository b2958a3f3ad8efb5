"""The agent settings service: parsing, defaults, toggles, and their effect on notify."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callback_data import MAX_EXTRA
from db.status import DeliveryStatus, NotificationType
from services import agent_settings as svc
from services.errors import InvalidInputError, NotAllowedError
from services.notifying.notification_rows import NOTIFICATION_LABELS, notify
from tests.factories import make_agent


def test_every_notification_type_has_a_short_toggle_key() -> None:
    assert set(svc.TOGGLE_KEYS.values()) == set(NOTIFICATION_LABELS)
    assert set(NOTIFICATION_LABELS) == set(NotificationType)
    for key in svc.TOGGLE_KEYS:
        assert len(f"{key}.0") <= MAX_EXTRA


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["17:30", "9:00"], ["09:00", "17:30"]),
        (["09:00,12:00", "09:00"], ["09:00", "12:00"]),
        (["0:05"], ["00:05"]),
        (["06:00", "09:00", "12:00", "23:59"], ["06:00", "09:00", "12:00", "23:59"]),
    ],
)
def test_parse_posting_times(args: list[str], expected: list[str]) -> None:
    assert svc.parse_posting_times(args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "one to four"),
        (["9am"], "“9am” is not a 24-hour time"),
        (["24:00"], "not a 24-hour time"),
        (["1:00", "2:00", "3:00", "4:00", "5:00"], "At most 4"),
    ],
)
def test_parse_posting_times_refuses(args: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        svc.parse_posting_times(args)
    assert message in err.value.message and "/times 09:00 17:30" in err.value.message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["21:00", "07:00"], ("21:00", "07:00")),
        (["21:00-7:00"], ("21:00", "07:00")),
        (["9:30", "11:00"], ("09:30", "11:00")),
        (["off"], None),
        (["OFF"], None),
    ],
)
def test_parse_quiet_hours(args: list[str], expected: tuple[str, str] | None) -> None:
    assert svc.parse_quiet_hours(args) == expected


@pytest.mark.parametrize("args", [[], ["21:00"], ["21:00", "21:00"], ["nine", "five"], ["a b c"]])
def test_parse_quiet_hours_refuses(args: list[str]) -> None:
    with pytest.raises(InvalidInputError) as err:
        svc.parse_quiet_hours(args)
    assert "/quiet" in err.value.message


def test_resolve_timezone() -> None:
    assert svc.resolve_timezone(" america/chicago ") == "America/Chicago"
    assert svc.resolve_timezone("UTC") == "UTC"
    for bad in ("", "Mars/Base", "../../etc/passwd", "America/"):
        with pytest.raises(InvalidInputError):
            svc.resolve_timezone(bad)


async def test_defaults_when_nothing_is_set(session: AsyncSession) -> None:
    agent = await make_agent(session, telegram_user_id=61_001)
    s = await svc.load_settings(session, telegram_user_id=61_001, default_timezone="UTC")
    assert s.agent_id == agent.id
    assert s.posting_times == ("09:00", "17:00") and s.posting_times_is_default
    assert s.quiet_hours is None
    assert s.timezone == "UTC" and s.timezone_is_default
    assert [t.notification_type for t in s.toggles] == list(NOTIFICATION_LABELS)
    assert all(t.enabled for t in s.toggles)


async def test_strangers_and_inactive_agents_are_refused(session: AsyncSession) -> None:
    await make_agent(session, telegram_user_id=61_002, is_active=False)
    for uid in (61_002, 61_999):
        with pytest.raises(NotAllowedError):
            await svc.load_settings(session, telegram_user_id=uid, default_timezone="UTC")
        with pytest.raises(NotAllowedError):
            await svc.set_posting_times(
                session, telegram_user_id=uid, args=["09:00"], default_timezone="UTC"
            )


async def test_toggle_is_idempotent_and_owned(session: AsyncSession) -> None:
    agent = await make_agent(session, telegram_user_id=61_003)
    await make_agent(session, telegram_user_id=61_004)

    async def toggle(uid: int, key: str, enabled: bool) -> svc.AgentSettings:
        return await svc.set_notification(
            session,
            agent_id=agent.id,
            telegram_user_id=uid,
            key=key,
            enabled=enabled,
            default_timezone="UTC",
        )

    first = await toggle(61_003, "sold", False)
    again = await toggle(61_003, "sold", False)
    assert first == again
    assert [t.key for t in first.toggles if not t.enabled] == ["sold"]
    assert agent.notification_preferences == {"listing_sold": False}
    with pytest.raises(NotAllowedError):
        await toggle(61_004, "sold", True)
    with pytest.raises(InvalidInputError):
        await toggle(61_003, "nope", True)
    await session.refresh(agent)
    assert agent.notification_preferences == {"listing_sold": False}


async def test_a_type_turned_off_is_recorded_but_not_sent(session: AsyncSession) -> None:
    agent = await make_agent(session, telegram_user_id=61_005)
    await svc.set_notification(
        session,
        agent_id=agent.id,
        telegram_user_id=61_005,
        key="price",
        enabled=False,
        default_timezone="UTC",
    )
    off = await notify(session, agent, NotificationType.LISTING_PRICE_CHANGED, "Price cut")
    on = await notify(session, agent, NotificationType.LISTING_SOLD, "Sold")
    assert off.delivery_status == DeliveryStatus.SKIPPED
    assert on.delivery_status == DeliveryStatus.PENDING


async def test_times_quiet_and_zone_are_stored(session: AsyncSession) -> None:
    agent = await make_agent(session, telegram_user_id=61_006)
    await svc.set_posting_times(
        session, telegram_user_id=61_006, args=["18:00", "8:15"], default_timezone="UTC"
    )
    await svc.set_quiet_hours(
        session, telegram_user_id=61_006, args=["22:00", "06:30"], default_timezone="UTC"
    )
    s = await svc.set_timezone(
        session, telegram_user_id=61_006, name="europe/london", default_timezone="UTC"
    )
    await session.refresh(agent)
    assert agent.posting_times == ["08:15", "18:00"]
    assert (agent.quiet_hours_start, agent.quiet_hours_end) == ("22:00", "06:30")
    assert agent.timezone == "Europe/London"
    assert s.posting_times == ("08:15", "18:00") and not s.posting_times_is_default
    assert s.quiet_hours == ("22:00", "06:30")
    assert s.timezone == "Europe/London" and not s.timezone_is_default
    s = await svc.set_quiet_hours(
        session, telegram_user_id=61_006, args=["off"], default_timezone="UTC"
    )
    assert s.quiet_hours is None
    await session.refresh(agent)
    assert agent.quiet_hours_start is None and agent.quiet_hours_end is None
