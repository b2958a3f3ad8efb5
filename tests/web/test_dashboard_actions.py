"""The dashboard's buttons over HTTP, on both databases: the same transitions as the
Telegram buttons (status, audit row, posts), CSRF on every POST, and an agent's user who
cannot see or touch another agent's drafts, whatever id the URL names."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from db.base import utcnow
from db.models import Agent, AgentListing, ApprovalLog, ContentPiece, PostSchedule
from db.status import ContentStatus, ScheduleStatus
from services.context import Database
from services.dashboard_actions import AGENT_DEACTIVATED
from tests.factories import make_account, make_agent, make_listing, make_piece
from tests.web.dashboard_kit import (
    Client,
    SyncRecorder,
    csrf_in,
    dashboard_app,
    new_client,
    page_csrf,
    serve,
    sign_in,
)

S = ContentStatus


@dataclass
class Two:
    """Two agents, each with a Facebook account and a waiting draft."""

    chris: Agent
    pat: Agent
    chris_piece: uuid.UUID
    pat_piece: uuid.UUID
    chris_account: uuid.UUID


async def _two(database: Database) -> Two:
    async with database.unit_of_work() as s:
        chris = await make_agent(s, name="Chris Doe")
        pat = await make_agent(s, name="Pat Lee")
        account = await make_account(s, chris, "facebook", display_name="Chris Sells")
        await make_account(s, pat, "facebook", display_name="Pat Sells")
        home, other_home = (
            await make_listing(s, address="1 Chris Way"),
            await make_listing(s, address="2 Pat Road"),
        )
        s.add_all(
            [
                AgentListing(agent_id=chris.id, listing_id=home.id),
                AgentListing(agent_id=pat.id, listing_id=other_home.id),
            ]
        )
        mine = await make_piece(s, chris, home)
        theirs = await make_piece(s, pat, other_home)
    return Two(chris, pat, mine.id, theirs.id, account.id)


async def _piece(database: Database, piece_id: uuid.UUID) -> ContentPiece:
    async with database.unit_of_work() as s:
        found = await s.get(ContentPiece, piece_id)
    assert found is not None
    return found


async def _count(database: Database, model: Any, *where: Any) -> int:
    async with database.unit_of_work() as s:
        stmt = select(func.count()).select_from(model)
        for condition in where:
            stmt = stmt.where(condition)
        return int((await s.execute(stmt)).scalar_one())


async def _press(
    client: Client, piece_id: uuid.UUID, action: str, version: int = 1, **form: str
) -> Any:
    csrf = form.pop("csrf", None) or await page_csrf(client)
    return await client.post(
        f"/drafts/{piece_id}/{action}",
        data={"csrf": csrf, "version": str(version), **form},
        allow_redirects=False,
    )


async def test_approve_on_the_dashboard_is_the_approve_of_the_phone(database: Database) -> None:
    two = await _two(database)
    sync = SyncRecorder()
    async with serve(dashboard_app(database, sync=sync)) as client:
        await sign_in(client, database, agent=two.chris)
        response = await _press(client, two.chris_piece, "approve", next="/schedule")
        assert response.status == 303 and response.headers["Location"] == "/schedule"
        page = await client.get("/schedule")
        body = await page.text()
        assert "Approved and scheduled." in body  # the outcome, shown once
        assert "1 Chris Way" in body and "Post now" in body
        assert "Approved and scheduled." not in await (await client.get("/schedule")).text()
    piece = await _piece(database, two.chris_piece)
    assert piece.status == S.APPROVED_FOR_POSTING and piece.last_approved_at is not None
    async with database.unit_of_work() as s:
        logs = (await s.execute(select(ApprovalLog))).scalars().all()
        posts = (await s.execute(select(PostSchedule))).scalars().all()
    assert [(log.action_type, log.agent_id, log.from_status, log.to_status) for log in logs] == [
        ("approved", two.chris.id, S.PENDING_APPROVAL_AGENT, S.APPROVED_FOR_POSTING)
    ]
    assert [(p.content_piece_id, p.status) for p in posts] == [(two.chris_piece, "pending")]
    # The agent's phone is told: the sync redraws the Telegram message.
    assert [(r.piece_id, r.status, r.ok) for r in sync.changes] == [
        (two.chris_piece, S.APPROVED_FOR_POSTING, True)
    ]
    assert sync.changes[0].scheduled and sync.changes[0].scheduled[0].account_name == "Chris Sells"


async def test_a_post_without_the_csrf_token_changes_nothing(database: Database) -> None:
    two = await _two(database)
    sync = SyncRecorder()
    async with serve(dashboard_app(database, sync=sync)) as client:
        await sign_in(client, database, agent=two.chris)
        missing = await client.post(
            f"/drafts/{two.chris_piece}/approve", data={"version": "1"}, allow_redirects=False
        )
        assert missing.status == 403
        # A token of another session is as good as none.
        other_browser = await new_client(client.server)
        try:
            await sign_in(other_browser, database, admin=True)
            foreign = await page_csrf(other_browser)
        finally:
            await other_browser.close()
        assert foreign != await page_csrf(client)
        wrong = await _press(client, two.chris_piece, "approve", csrf=foreign)
        assert wrong.status == 403
        logout = await client.post("/logout", data={}, allow_redirects=False)
        assert logout.status == 403
        assert (await client.get("/drafts")).status == 200  # still signed in
    assert (await _piece(database, two.chris_piece)).status == S.PENDING_APPROVAL_AGENT
    assert await _count(database, ApprovalLog) == 0
    assert await _count(database, PostSchedule) == 0
    assert sync.changes == []


async def test_an_agents_user_cannot_see_another_agents_draft(database: Database) -> None:
    two = await _two(database)
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=two.chris)
        mine = await client.get(f"/drafts/{two.chris_piece}")
        assert mine.status == 200 and "1 Chris Way" in await mine.text()
        theirs = await client.get(f"/drafts/{two.pat_piece}")
        assert theirs.status == 404 and "2 Pat Road" not in await theirs.text()
        # Asking for the other agent in the filters changes nothing either.
        for path in (
            f"/drafts?status=all&agent={two.pat.id}",
            f"/listings?agent={two.pat.id}",
            f"/?agent={two.pat.id}",
            f"/audit?agent={two.pat.id}",
        ):
            body = await (await client.get(path)).text()
            assert "2 Pat Road" not in body and "Pat Lee" not in body, path
        listings = await (await client.get("/listings")).text()
        assert "1 Chris Way" in listings


async def test_an_agents_user_cannot_act_on_another_agents_draft(database: Database) -> None:
    two = await _two(database)
    sync = SyncRecorder()
    async with serve(dashboard_app(database, sync=sync)) as client:
        await sign_in(client, database, agent=two.chris)
        for action in ("approve", "reject"):
            response = await _press(client, two.pat_piece, action)
            assert response.status == 303
            body = await (await client.get(response.headers["Location"])).text()
            assert "Only the agent this draft belongs to can act on it." in body
    assert (await _piece(database, two.pat_piece)).status == S.PENDING_APPROVAL_AGENT
    assert await _count(database, ApprovalLog) == 0 and await _count(database, PostSchedule) == 0
    assert sync.changes == []


async def test_an_admin_acts_on_any_agents_draft_as_that_agent(database: Database) -> None:
    two = await _two(database)
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        body = await (await client.get("/drafts")).text()
        assert "1 Chris Way" in body and "2 Pat Road" in body
        only_pat = await (await client.get(f"/drafts?agent={two.pat.id}")).text()
        assert "2 Pat Road" in only_pat and "1 Chris Way" not in only_pat
        assert (await _press(client, two.pat_piece, "reject")).status == 303
    assert (await _piece(database, two.pat_piece)).status == S.REJECTED
    async with database.unit_of_work() as s:
        log = (await s.execute(select(ApprovalLog))).scalar_one()
    assert (log.action_type, log.agent_id, log.content_piece_id) == (
        "rejected",
        two.pat.id,
        two.pat_piece,
    )


async def test_a_deactivated_agents_draft_cannot_be_acted_on_even_by_an_admin(
    database: Database,
) -> None:
    two = await _two(database)
    async with database.unit_of_work() as s:
        await s.execute(update(Agent).where(Agent.id == two.pat.id).values(is_active=False))
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        response = await _press(client, two.pat_piece, "approve")
        page = await client.get(response.headers["Location"])
        assert AGENT_DEACTIVATED in html.unescape(await page.text())
    assert (await _piece(database, two.pat_piece)).status == S.PENDING_APPROVAL_AGENT


async def test_a_stale_version_or_a_second_press_changes_nothing(database: Database) -> None:
    two = await _two(database)
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=two.chris)
        stale = await _press(client, two.chris_piece, "approve", version=2)
        body = await (await client.get(stale.headers["Location"])).text()
        assert "A newer version of this draft replaced this one" in body
        csrf = await page_csrf(client)
        first = await _press(client, two.chris_piece, "reject", csrf=csrf)
        second = await _press(client, two.chris_piece, "reject", csrf=csrf)
        assert first.status == second.status == 303
        body = await (await client.get(second.headers["Location"])).text()
        assert "Nothing changed: this draft is already rejected." in body
    assert await _count(database, ApprovalLog) == 1


async def test_post_now_cancel_and_retry(database: Database) -> None:
    two = await _two(database)
    later = utcnow() + timedelta(days=2)
    async with database.unit_of_work() as s:
        pieces = {}
        for name, status in (
            ("now", S.APPROVED_FOR_POSTING),
            ("cancel", S.APPROVED_FOR_POSTING),
            ("retry", S.POSTING_FAILED),
        ):
            piece = await make_piece(s, two.chris, status=status)
            pieces[name] = piece.id
        for name, status in (("now", "pending"), ("cancel", "pending"), ("retry", "failed")):
            s.add(
                PostSchedule(
                    content_piece_id=pieces[name],
                    social_media_account_id=two.chris_account,
                    scheduled_at=later,
                    status=status,
                )
            )
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=two.chris)
        schedule = await (await client.get("/schedule")).text()
        assert schedule.count("a-post-now") == 2 and schedule.count("a-cancel") == 2
        failed = await (await client.get("/posts?show=failed")).text()
        assert "Retry" in failed
        for name, action in (("now", "post-now"), ("cancel", "cancel"), ("retry", "retry")):
            assert (await _press(client, pieces[name], action)).status == 303
    async with database.unit_of_work() as s:
        rows = {
            (r.content_piece_id, r.status): r.scheduled_at
            for r in (await s.execute(select(PostSchedule))).scalars()
        }
    assert rows[(pieces["now"], "pending")] < utcnow() + timedelta(seconds=5)
    assert (pieces["cancel"], ScheduleStatus.CANCELLED.value) in rows
    assert (await _piece(database, pieces["cancel"])).status == S.REJECTED
    assert (await _piece(database, pieces["retry"])).status == S.APPROVED_FOR_POSTING
    assert rows[(pieces["retry"], "pending")] < utcnow() + timedelta(seconds=5)


async def test_the_form_goes_back_only_to_a_page_of_this_site(database: Database) -> None:
    two = await _two(database)
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=two.chris)
        for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            response = await _press(client, two.chris_piece, "reject", next=evil)
            assert response.headers["Location"] == f"/drafts/{two.chris_piece}"
        login = await client.get("/login?next=https://evil.example/")
        assert 'name="next" value="/"' in await login.text()
        assert csrf_in(await login.text())
