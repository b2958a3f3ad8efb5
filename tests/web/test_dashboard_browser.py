"""The dashboard in a real browser: Playwright driving Debian's headless Chromium.

Sign in, open a draft, approve it, find it on /schedule and in /audit, download the
audit CSV and read its rows, sign out. A screenshot of every page is kept under the test's
temporary folder (look at them: `pytest --basetemp=DIR`). On both databases.

Playwright cannot download its own browsers here, so it is pointed at /usr/bin/chromium
(`apt-get install chromium`; .ci/run installs it). Without that binary the test is skipped,
except in CI (CI=true), where it must run.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image, ImageDraw

from db.base import utcnow
from db.models import AgentListing, ListingPriceChange
from services.context import Database
from tests.factories import make_account, make_agent, make_listing, make_piece
from tests.web.dashboard_kit import PASSWORD, SyncRecorder, make_user
from web.app import build_web_app
from web.dashboard import Dashboard
from web.server import WebServer

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
# Headless, and quiet: without the networking switches Chromium keeps calling home
# (component updates, sync, QUIC probes) on a machine that has no way out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists() and not IN_CI:
    pytest.skip(
        "Chromium is not installed (/usr/bin/chromium): `apt-get install chromium` to run the "
        "browser test (CI installs it and runs it)",
        allow_module_level=True,
    )

from playwright.async_api import Page, async_playwright  # noqa: E402


def _photo(n: int) -> bytes:
    """A small JPEG that looks like a photo of a house."""
    image = Image.new("RGB", (480, 320), (135 + 20 * n, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 230, 480, 320), fill=(96, 160, 80))
    draw.rectangle((140, 140, 340, 250), fill=(236, 224, 200))
    draw.polygon([(120, 145), (240, 70), (360, 145)], fill=(150, 70, 60))
    draw.rectangle((222, 190, 258, 250), fill=(110, 80, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture
async def photo_site() -> AsyncIterator[str]:
    """The builder's photos, served locally."""

    async def photo(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(body=_photo(n), content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/photos/{n:\\d}.jpg", photo)
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def _shot(page: Page, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def test_sign_in_approve_see_it_everywhere_export_and_sign_out(
    database: Database, photo_site: str, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with database.unit_of_work() as s:
        agent = await make_agent(s, name="Chris Doe", timezone="America/New_York")
        await make_account(s, agent, "facebook", display_name="Chris Sells Ocala")
        await make_account(s, agent, "instagram", display_name="@chris.ocala")
        home = await make_listing(
            s,
            address="4521 SW 49th Lane",
            price=Decimal("329990"),
            image_urls=[f"{photo_site}/photos/{n}.jpg" for n in range(3)],
        )
        s.add(AgentListing(agent_id=agent.id, listing_id=home.id))
        s.add(
            ListingPriceChange(
                listing_id=home.id,
                old_price=Decimal("344990"),
                new_price=Decimal("329990"),
                changed_at=utcnow(),
            )
        )
        piece = await make_piece(s, agent, home)
    email = await make_user(database, admin=True)
    sync = SyncRecorder()
    app = build_web_app(
        probes={},
        dashboard=Dashboard(
            database=lambda: database,
            default_timezone="America/New_York",
            image_origin=photo_site,
            draft_sync=sync,
        ),
    )
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = await context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )

            # Sign in: any page sends the browser to /login first, then back.
            await page.goto(f"{base}/drafts")
            assert page.url.startswith(f"{base}/login?next=")
            await _shot(page, shots, "01-login")
            await page.fill("input[name=email]", email)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/drafts")
            await page.goto(f"{base}/")
            assert await page.locator(".tile").first.is_visible()
            await _shot(page, shots, "02-overview")

            # Open the draft from the list.
            await page.goto(f"{base}/drafts")
            await _shot(page, shots, "03-drafts")
            await page.click(f"#d-{piece.id} h3 a")
            await page.wait_for_url(f"{base}/drafts/{piece.id}")
            assert await page.locator("img[alt^='Photo 1']").evaluate("i => i.naturalWidth") > 0
            await _shot(page, shots, "04-draft")

            # Approve it.
            await page.click("button.a-approve")
            await page.wait_for_url(f"{base}/drafts/{piece.id}")
            assert await page.locator(".flash").inner_text() == "Approved and scheduled."
            assert "Approved, scheduled" in await page.locator("main .badge").first.inner_text()
            await _shot(page, shots, "05-approved")
            assert [r.piece_id for r in sync.changes] == [piece.id]

            # It is on the schedule, once per account.
            await page.click("nav >> text=Schedule")
            await page.wait_for_url(f"{base}/schedule")
            rows = page.locator(".row", has_text="4521 SW 49th Lane")
            assert await rows.count() == 2
            await _shot(page, shots, "06-schedule")

            # And in the audit log.
            await page.click("nav >> text=Audit")
            await page.wait_for_url(f"{base}/audit")
            audit_rows = page.locator("table.audit tbody tr")
            assert await audit_rows.count() == 1
            assert "Approved" in await audit_rows.first.inner_text()
            await _shot(page, shots, "07-audit")

            # Download the CSV of what the filter shows.
            await page.select_option("select[name=action]", "approved")
            await page.click("form.filters button[type=submit]")
            await page.wait_for_url(f"{base}/audit?*action=approved*")
            async with page.expect_download() as waiting:
                await page.click("text=Download CSV")
            download = await waiting.value
            assert download.suggested_filename.startswith("audit-")
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            exported = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
            assert [(r["agent"], r["action"], r["draft_id"], r["to_status"]) for r in exported] == [
                ("Chris Doe", "approved", str(piece.id), "approved_for_posting")
            ]
            assert exported[0]["home"] == "4521 SW 49th Lane, Ocala"

            for name, path in (("08-posts", "/posts"), ("09-listings", "/listings")):
                await page.goto(f"{base}{path}")
                await _shot(page, shots, name)
            assert await page.locator("svg.price-chart").count() == 1

            # A phone-sized screen gets the same pages.
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.goto(f"{base}/drafts/{piece.id}")
            await _shot(page, shots, "10-phone-draft")

            # Sign out: the session ends, pages send the browser to /login again.
            await page.click("text=Sign out")
            await page.wait_for_url(f"{base}/login")
            await page.goto(f"{base}/schedule")
            assert page.url.startswith(f"{base}/login?next=")
            await _shot(page, shots, "11-signed-out")
            # Nothing failed to load, nothing broke the Content-Security-Policy.
            assert problems == []
            await browser.close()
    finally:
        await server.stop()
    assert len(list(shots.glob("*.png"))) == 11
