"""Create / read / update / delete for every repository, on each backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import DuplicateError
from db.repositories import (
    accounts,
    agents,
    app_state,
    audit,
    content,
    listings,
    transitions,
    users,
)
from db.status import (
    ApprovalAction,
    ContentPurpose,
    ContentStatus,
    ContentType,
    DeliveryStatus,
    NotificationType,
)
from services import status_machine as machine


def listing_values(source_id: str = "sanibel-123-oak-st") -> dict[str, object]:
    return {
        "source_id": source_id,
        "address": "123 Oak St",
        "city": "Ocala",
        "state": "FL",
        "zip_code": "34473",
        "price": Decimal("349990"),
        "beds": 3,
        "baths": Decimal("2.5"),
        "sqft": 1850,
        "key_features": ["Clubhouse", "Pool"],
        "image_urls": ["https://example.com/a.jpg"],
        "source_lastmod": datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
    }


async def test_agent_crud(session: AsyncSession) -> None:
    agent = await agents.create_agent(
        session, email=" Chris@Example.com ", name="Chris Doe", company="Sunrise Realty"
    )
    assert agent.email == "chris@example.com"
    assert (await agents.get_agent_by_email(session, "CHRIS@example.com")) is agent
    assert await agents.update_agent(session, agent.id, phone="555-0100", telegram_user_id=42)
    await session.refresh(agent)
    assert agent.phone == "555-0100"
    assert (await agents.get_agent_by_telegram_user(session, 42)) is agent
    assert agent.created_at is not None and agent.created_at.tzinfo is not None
    await agents.set_service_areas(session, agent.id, [("city", " Ocala "), ("city", "ocala")])
    listed = await agents.list_agents(session)
    assert [a.email for a in listed] == ["chris@example.com"]
    assert [(a.kind, a.value) for a in listed[0].service_areas] == [("city", "ocala")]
    assert await agents.count_agents(session) == 1
    assert await agents.delete_agent(session, agent.id)
    assert await agents.get_agent(session, agent.id) is None
    assert not await agents.delete_agent(session, agent.id)


async def test_invites_are_stored_hashed(session: AsyncSession) -> None:
    agent = await agents.create_agent(session, email="a@b.co", name="A")
    expires = datetime.now(UTC) + timedelta(days=7)
    await agents.create_invite(session, agent.id, "f" * 64, expires)
    now = datetime.now(UTC)
    assert await agents.claim_invite(session, "0" * 64, 7, now) is None
    assert await agents.claim_invite(session, "f" * 64, 7, expires + timedelta(seconds=1)) is None
    assert await agents.claim_invite(session, "f" * 64, 7, now) == agent.id
    assert await agents.claim_invite(session, "f" * 64, 8, now) is None  # single use


async def test_user_crud(session: AsyncSession) -> None:
    agent = await agents.create_agent(session, email="a@b.co", name="A")
    user = await users.create_user(
        session, email="Login@B.co", password_hash="$argon2id$x", agent_id=agent.id
    )
    await session.refresh(user)
    assert user.is_active is True
    assert (await users.get_user_by_email(session, "login@b.co")) is user
    now = datetime.now(UTC)
    assert await users.update_user(session, user.id, last_login_at=now)
    await session.refresh(user)
    assert user.last_login_at is not None
    assert abs((user.last_login_at - now).total_seconds()) < 1
    assert await users.delete_user(session, user.id)
    assert await users.get_user(session, user.id) is None


async def test_listing_crud_keeps_types(session: AsyncSession) -> None:
    row = await listings.create_listing(session, **listing_values())
    await session.refresh(row)
    assert row.status == "active"
    assert row.price == Decimal("349990")
    assert row.baths == Decimal("2.5")
    assert row.key_features == ["Clubhouse", "Pool"]
    assert row.source_lastmod == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert (await listings.get_listing_by_source_id(session, row.source_id)) is row
    assert await listings.update_listing(session, row.id, status="sold")
    assert (await listings.count_by_status(session)) == {"sold": 1}
    assert await listings.known_lastmods(session) == {row.source_id: row.source_lastmod}
    assert [x.id for x in await listings.list_listings(session, status="sold")] == [row.id]
    assert await listings.delete_listing(session, row.id)
    assert await listings.get_listing(session, row.id) is None


async def test_content_piece_crud_and_versions(session: AsyncSession) -> None:
    agent = await agents.create_agent(session, email="a@b.co", name="A")
    listing = await listings.create_listing(session, **listing_values())
    piece = await content.create_content_piece(
        session,
        listing_id=listing.id,
        agent_id=agent.id,
        content_type=ContentType.SOCIAL_MEDIA_POST,
        generated_text={"headline": "Hi", "hashtags": ["#Ocala"]},
        status=ContentStatus.PENDING_APPROVAL_AGENT,
        purpose=ContentPurpose.NEW_LISTING,
        associated_image_urls=["https://example.com/a.jpg"],
        writer="builtin",
    )
    await content.add_version(
        session,
        piece.id,
        version=2,
        generated_text={"headline": "Shorter"},
        feedback="make it shorter",
        writer="builtin",
        warnings=[],
    )
    assert await content.update_content_piece(session, piece.id, version=2, feedback="shorter")
    got = await content.get_content_piece(session, piece.id, for_update=True)
    assert got is not None and got.version == 2
    assert [v.version for v in await content.list_versions(session, piece.id)] == [1, 2]
    assert (await content.list_versions(session, piece.id))[1].feedback == "make it shorter"
    mine = await content.list_content_for_agent(
        session, agent.id, statuses=[ContentStatus.PENDING_APPROVAL_AGENT]
    )
    assert [p.id for p in mine] == [piece.id] and mine[0].listing.id == listing.id
    assert await content.count_by_status(session) == {"pending_approval_agent": 1}
    assert await content.delete_content_piece(session, piece.id)
    assert await content.get_content_piece(session, piece.id) is None


async def test_audit_log_and_notifications(session: AsyncSession) -> None:
    agent = await agents.create_agent(session, email="a@b.co", name="A")
    listing = await listings.create_listing(session, **listing_values())
    piece = await content.create_content_piece(
        session,
        listing_id=listing.id,
        agent_id=agent.id,
        content_type=ContentType.FLYER_TEXT,
        generated_text={"headline": "x"},
        status=ContentStatus.PENDING_APPROVAL_AGENT,
        purpose=ContentPurpose.FLYER,
    )
    # The status machine is the one writer of audit rows.
    moved = await transitions.apply_in(
        session, machine.REJECT, transitions.Request(piece.id, version=1, agent_id=agent.id)
    )
    assert moved is not None and moved.status == ContentStatus.REJECTED
    logs = await audit.list_approval_logs(session, piece.id)
    assert [(log.action_type, log.version) for log in logs] == [(ApprovalAction.REJECTED, 1)]
    assert (logs[0].from_status, logs[0].to_status) == (None, "rejected")
    assert logs[0].timestamp is not None
    on = await audit.add_notification(
        session,
        agent_id=agent.id,
        notification_type=NotificationType.LISTING_INGESTED,
        message="New home",
        related_entity_id=listing.id,
    )
    off = await audit.add_notification(
        session,
        agent_id=agent.id,
        notification_type=NotificationType.POST_SUCCESS,
        message="Posted",
        deliver=False,
    )
    await session.flush()
    assert on.delivery_status == DeliveryStatus.PENDING
    assert off.delivery_status == DeliveryStatus.SKIPPED
    unread = await audit.list_unread_notifications(session, agent.id)
    assert {n.id for n in unread} == {on.id, off.id}
    assert await audit.mark_notifications_read(session, [on.id]) == 1
    assert [n.id for n in await audit.list_unread_notifications(session, agent.id)] == [off.id]


async def test_accounts_and_app_state(session: AsyncSession) -> None:
    agent = await agents.create_agent(session, email="a@b.co", name="A")
    acct = await accounts.create_account(
        session,
        agent_id=agent.id,
        platform="facebook",
        account_id="1234",
        access_token_encrypted="enc",
        display_name="Chris Sells Homes",
    )
    assert (await accounts.find_account(session, agent.id, "facebook", "1234")) is acct
    assert await accounts.update_account(session, acct.id, is_active=False)
    assert await accounts.list_accounts(session, agent.id, active_only=True) == []
    with pytest.raises(DuplicateError):
        await accounts.create_account(
            session,
            agent_id=agent.id,
            platform="facebook",
            account_id="1234",
            access_token_encrypted="enc2",
        )
    assert await app_state.get_value(session, app_state.PUBLISHING_PAUSED, False) is False
    await app_state.set_value(session, app_state.PUBLISHING_PAUSED, True)
    assert await app_state.get_value(session, app_state.PUBLISHING_PAUSED) is True
    await app_state.set_value(session, app_state.PUBLISHING_PAUSED, False)
    assert await app_state.get_value(session, app_state.PUBLISHING_PAUSED) is False


async def test_duplicates_surface_as_our_error(session: AsyncSession) -> None:
    await agents.create_agent(session, email="dup@b.co", name="A")
    with pytest.raises(DuplicateError) as err:
        await agents.create_agent(session, email="DUP@b.co", name="B")
    assert err.value.field == "email"
    # the transaction is still usable after the error
    await users.create_user(session, email="u@b.co", password_hash="h")
    with pytest.raises(DuplicateError) as err:
        await users.create_user(session, email="u@b.co", password_hash="h2")
    assert err.value.entity == "user"
    await listings.create_listing(session, **listing_values("same-slug"))
    with pytest.raises(DuplicateError) as err:
        await listings.create_listing(session, **listing_values("same-slug"))
    assert err.value.field == "source_id"
    assert await agents.count_agents(session) == 1


async def test_one_user_per_agent(session: AsyncSession) -> None:
    agent = await agents.create_agent(session, email="a@b.co", name="A")
    await users.create_user(session, email="one@b.co", password_hash="h", agent_id=agent.id)
    with pytest.raises(DuplicateError):
        await users.create_user(session, email="two@b.co", password_hash="h", agent_id=agent.id)


async def test_check_constraints_refuse_unknown_status_words(session: AsyncSession) -> None:
    agent = await agents.create_agent(session, email="a@b.co", name="A")
    listing = await listings.create_listing(session, **listing_values())
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await content.create_content_piece(
                session,
                listing_id=listing.id,
                agent_id=agent.id,
                content_type=ContentType.SOCIAL_MEDIA_POST,
                generated_text={},
                status="approved",  # not a status word of the product
                purpose=ContentPurpose.NEW_LISTING,
            )
