"""The dashboard's lists on both databases: every row once across keyset pages, what
each page shows (photos, the text per platform, price history, permalinks, reasons), and
everything printed escaped."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from db.base import utcnow
from db.models import AgentListing, ListingPriceChange, PostSchedule, SocialMediaAccount
from db.status import ContentStatus
from services import dashboard_views as views
from services.context import Database
from tests.factories import make_account, make_agent, make_listing, make_piece
from tests.web.dashboard_kit import dashboard_app, serve, sign_in

SCRIPT = "<script>alert('pwned')</script>"


async def _all_pages(client: object, path: str, pattern: str) -> list[str]:
    """Every match of `pattern` on `path` and the pages after it ("More »")."""
    found: list[str] = []
    next_path: str | None = path
    seen_pages = 0
    while next_path is not None:
        body = await (await client.get(next_path)).text()  # type: ignore[attr-defined]
        main = body.split("<main>")[1]
        found += re.findall(pattern, main)
        more = re.search(r'<a class="next" href="([^"]+)"', main)
        next_path = more.group(1).replace("&amp;", "&") if more else None
        seen_pages += 1
        assert seen_pages < 50
    return found


async def test_each_list_shows_every_row_once_across_pages(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DRAFTS_PER_PAGE", "POSTS_PER_PAGE", "LISTINGS_PER_PAGE"):
        monkeypatch.setattr(views, name, 3)
    now = utcnow()
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        account = await make_account(s, agent)
        homes = [await make_listing(s, address=f"{i} Page Street") for i in range(8)]
        s.add_all(AgentListing(agent_id=agent.id, listing_id=h.id) for h in homes)
        pieces = [await make_piece(s, agent, h) for h in homes]
        for i, piece in enumerate(pieces):
            for status, offset in (
                ("pending", timedelta(hours=i)),
                ("success", -timedelta(hours=i)),
                ("failed", -timedelta(days=1, hours=i)),
            ):
                s.add(
                    PostSchedule(
                        content_piece_id=piece.id,
                        social_media_account_id=account.id,
                        scheduled_at=now + offset,
                        status=status,
                        permalink=f"https://facebook.com/p/{i}" if status == "success" else None,
                        error_message="Token expired" if status == "failed" else None,
                    )
                )
    ids = sorted(str(p.id) for p in pieces)
    draft_link = r'<h3><a href="/drafts/([0-9a-f-]{36})"'
    row_link = r'<a href="/drafts/([0-9a-f-]{36})">\d+ Page Street'
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=agent)
        assert sorted(await _all_pages(client, "/drafts", draft_link)) == ids
        assert sorted(await _all_pages(client, "/schedule", row_link)) == ids
        assert sorted(await _all_pages(client, "/posts", row_link)) == ids
        assert sorted(await _all_pages(client, "/posts?show=failed", row_link)) == ids
        homes_shown = await _all_pages(client, "/listings", r"(\d+) Page Street</a></h3>")
        assert sorted(homes_shown) == [str(i) for i in range(8)]
        posts = await (await client.get("/posts")).text()
        assert 'href="https://facebook.com/p/' in posts
        failed = await (await client.get("/posts?show=failed")).text()
        assert "Token expired" in failed


async def test_everything_printed_is_escaped(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s, name=f"Chris {SCRIPT}")
        home = await make_listing(
            s,
            address=f"12 Oak {SCRIPT}",
            city='Ocala"><img src=x onerror=alert(1)>',
            image_urls=["javascript:alert(1)", "https://holidaybuilders.com/a.jpg"],
            source_url="javascript:alert(2)",
        )
        s.add(AgentListing(agent_id=agent.id, listing_id=home.id))
        s.add(
            ListingPriceChange(
                listing_id=home.id,
                old_price=Decimal("360000"),
                new_price=Decimal("349990"),
                changed_at=utcnow(),
            )
        )
        piece = await make_piece(
            s,
            agent,
            home,
            generated_text={"facebook_text": f"Hi {SCRIPT}", "instagram_text": "<b>bold</b>"},
        )
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        for path in ("/", "/drafts", f"/drafts/{piece.id}", "/listings", "/audit", "/schedule"):
            body = await (await client.get(path)).text()
            assert "<script>alert" not in body and "<img src=x" not in body, path
            assert "javascript:" not in body, path
        drafts = await (await client.get("/drafts")).text()
        assert "12 Oak &lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in drafts
        assert "&lt;b&gt;bold&lt;/b&gt;" in drafts
        assert 'src="https://holidaybuilders.com/a.jpg"' in drafts
        listings = await (await client.get("/listings")).text()
        assert '<svg class="price-chart down"' in listings and "$349,990" in listings


async def test_a_draft_shows_its_photos_and_the_exact_text_per_platform(
    database: Database,
) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        photos = [f"https://holidaybuilders.com/p{i}.jpg" for i in range(6)]
        piece = await make_piece(s, agent, await make_listing(s, image_urls=photos))
        flyer = await make_piece(
            s,
            agent,
            content_type="flyer_text",
            generated_text={
                "headline": "Flyer head",
                "bullets": ["Pool", "Lanai"],
                "description": "Flyer body",
            },
        )
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=agent)
        listed = await (await client.get("/drafts")).text()
        one = await (await client.get(f"/drafts/{piece.id}")).text()
    assert listed.count('src="https://holidaybuilders.com/p') == 4  # four on the list
    assert one.count('src="https://holidaybuilders.com/p') == 6  # all on the draft's page
    for label, text in (
        ("Facebook", "New home in Ocala. Sunrise Realty. Equal Housing"),
        ("Instagram", "New home in Ocala #Ocala Sunrise Realty."),
    ):
        assert f"<h4>{label}</h4>" in one and text in one
    # Flyer text is never posted: it can only be dismissed.
    card = listed.split(f'id="d-{flyer.id}"')[1].split("</article>")[0]
    assert "Flyer head" in card and "• Pool\n• Lanai" in card
    assert "a-reject" in card and "Dismiss" in card and "a-approve" not in card


async def test_the_overview_counts_what_needs_attention(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s)
        for status in (ContentStatus.PENDING_APPROVAL_AGENT,) * 3 + (
            ContentStatus.POSTING_FAILED,
            ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL,
        ):
            await make_piece(s, agent, status=status)
        account = await make_account(s, agent)
        await s.execute(
            update(SocialMediaAccount)
            .where(SocialMediaAccount.id == account.id)
            .values(is_active=False)
        )
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=agent)
        body = await (await client.get("/")).text()
    tiles = {
        label: int(count)
        for count, label in re.findall(r"<strong>(\d+)</strong><span>([a-z ]+)</span>", body)
    }
    assert tiles == {
        "waiting for the agent": 3,
        "waiting for marketing": 1,
        "failed to post": 1,
        "accounts to reconnect": 1,
    }
