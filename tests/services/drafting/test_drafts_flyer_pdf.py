"""The flyer button brings a printable PDF (as a document) with a PNG preview: the main photo
comes through the outbound guard, bounded, and the flyer is never published."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from db.models import PostSchedule
from services.context import Database
from services.drafting.listing_drafts import DraftMaker
from services.drafting.printable_flyers import FlyerPrinter
from tests.bot.conftest import running_bot
from tests.services.drafting.conftest import agents, new_home
from tests.services.rendering.conftest import house_photo
from tests.services.rendering.pdf_helpers import pdf_pictures, pdf_reader, pdf_text, qr_texts


class PhotoSite:
    """A local 'builder site' serving a photo, a huge photo and a page that is not an image."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        photo = house_photo()
        huge = b"\xff\xd8" + b"0" * (3 * 1024 * 1024)

        async def serve(request: web.Request) -> web.Response:
            self.hits.append(request.path)
            if request.path == "/photo.jpg":
                return web.Response(body=photo, content_type="image/jpeg")
            if request.path == "/huge.jpg":
                return web.Response(body=huge, content_type="image/jpeg")
            return web.Response(text="<html>no</html>", content_type="text/html")

        app = web.Application()
        app.router.add_get("/{tail:.*}", serve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def photo_site() -> AsyncIterator[PhotoSite]:
    site = PhotoSite()
    await site.start()
    try:
        yield site
    finally:
        await site.close()


async def test_the_flyer_arrives_as_a_pdf_with_a_preview(
    database: Database, tmp_path: Path, photo_site: PhotoSite
) -> None:
    listing_url = f"{photo_site.url}/new-homes-for-sale/5127-sw-88th-place-ocala/"
    async with running_bot(
        database, tmp_path, listings_base_url=photo_site.url, builder_name="Gulf Coast Builders"
    ) as h:
        (agent,) = await agents(
            h.database, 1, telegram_user_id=7501, company="Sunrise Realty", license_number="SL77"
        )
        user = h.fake.user(7501)
        listing = await new_home(
            h.database,
            agent,
            address="5127 SW 88th Place",
            city="Ocala",
            source_url=listing_url,
            image_urls=[f"{photo_site.url}/photo.jpg"],
        )
        maker = h.runtime.draft_maker
        assert isinstance(maker, DraftMaker)
        await maker.new_listings([listing.id])
        draft = await user.wait_message(lambda m: bool(m.buttons))
        await h.fake.wait_answer(await user.tap(draft.message_id, "Flyer"))

        text = await user.wait_message(lambda m: "Flyer text" in m.content and bool(m.buttons))
        [doc] = [m for m in user.messages if m.document is not None]
        preview = next(m for m in user.messages if "Flyer preview" in m.content)
        assert preview.message_id < doc.message_id < text.message_id

        assert doc.document is not None
        assert doc.document.file_name == "Flyer - 5127 SW 88th Place.pdf"
        pdf = doc.document.data
        assert len(pdf_reader(pdf).pages) == 1
        words = pdf_text(pdf)
        for needed in (
            "5127 SW 88th Place",
            "$349,990",
            "Gulf Coast Builders",
            "Equal Housing Opportunity",
            "SL77",
            "Sunrise Realty",
        ):
            assert needed in words, needed
        codes = [t for picture in pdf_pictures(pdf) for t in qr_texts(picture)]
        assert codes == [listing_url]
        # The photo was downloaded (through the guard, from the builder's site) and printed.
        assert "/photo.jpg" in photo_site.hits
        assert any(not qr_texts(p) and p.width >= 400 for p in pdf_pictures(pdf))

        assert preview.photo is not None and preview.photo.data is not None
        png = Image.open(io.BytesIO(preview.photo.data))
        assert png.format == "PNG" and png.size == (1275, 1650)
        assert qr_texts(png) == [listing_url]

        # A flyer cannot be approved for posting: nothing is ever scheduled for it.
        assert not [b for b in text.button_labels if "Approve" in b]
        assert "never posted" in doc.content
        async with h.database.unit_of_work() as s:
            assert (await s.execute(PostSchedule.__table__.select())).first() is None


async def test_photo_downloads_are_guarded_and_bounded(photo_site: PhotoSite) -> None:
    printer = FlyerPrinter(site_url=photo_site.url, max_photo_bytes=2 * 1024 * 1024)
    assert await printer.download_photo(f"{photo_site.url}/photo.jpg") is not None
    assert await printer.download_photo(f"{photo_site.url}/huge.jpg") is None  # too large
    assert await printer.download_photo(f"{photo_site.url}/page.html") is None  # not an image
    # Loopback that is not the builder's site is refused before any request is made.
    other = FlyerPrinter(site_url="https://holidaybuilders.com")
    hits = len(photo_site.hits)
    assert await other.download_photo(f"{photo_site.url}/photo.jpg") is None
    assert len(photo_site.hits) == hits
