"""Every dashboard page renders for an admin and for an agent's user, on both databases."""

from __future__ import annotations

from services.context import Database
from tests.factories import make_account, make_agent, make_piece
from tests.web.dashboard_kit import dashboard_app, serve, sign_in

PAGES = [
    "/",
    "/drafts",
    "/drafts?status=all",
    "/schedule",
    "/posts",
    "/posts?show=failed",
    "/audit",
    "/listings",
]


async def test_every_page_renders_for_an_admin(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s, name="Chris Doe")
        await make_account(s, agent)
        piece = await make_piece(s, agent)
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        for path in [*PAGES, f"/drafts/{piece.id}"]:
            response = await client.get(path)
            body = await response.text()
            assert response.status == 200, (path, body[:3000])
            assert "Sign out" in body
