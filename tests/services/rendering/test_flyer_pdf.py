"""The flyer PDF: one US Letter page carrying every fact, the disclosures and a working QR."""

from __future__ import annotations

import dataclasses
import gc
from decimal import Decimal

from PIL import Image
from reportlab.lib.utils import ImageReader

from services.rendering.flyer_pdf import FlyerSheet, render_flyer, render_flyer_pdf
from tests.services.rendering.conftest import LISTING_URL
from tests.services.rendering.pdf_helpers import pdf_pictures, pdf_reader, pdf_text, qr_texts


def test_one_us_letter_page(sheet: FlyerSheet) -> None:
    reader = pdf_reader(render_flyer_pdf(sheet))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (612.0, 792.0)


def test_every_fact_and_disclosure_is_printed(sheet: FlyerSheet) -> None:
    text = pdf_text(render_flyer_pdf(sheet))

    for expected in (
        "Brand-new 4-bedroom home in Oak Hammock Preserve",
        "5127 SW 88th Place, Ocala, FL 34476",
        "$289,990",
        "4 beds",
        "2.5 baths",
        "1,850 sq ft",
        "2-car garage",
        "Plan: The Magnolia",
        "Community: Oak Hammock Preserve",
        "Granite countertops",
        "Energy-efficient windows",
        "open kitchen that flows into a bright family room",
        "the covered lanai looks over a quiet yard",
        "Call Jane Doe at (352) 555-0142 to tour this home this week.",
        "Jane Doe",
        "(352) 555-0142",
        "jane.doe@sunrealty.example",
        "Sun Realty Group",
        "License #SL3456789",
        "Home built by Holiday Builders",
        "Equal Housing Opportunity",
    ):
        assert expected in text, expected
    assert LISTING_URL in text.replace(" ", "")  # printed under the code, broken after a "/"
    assert "Photo coming soon" not in text


def test_qr_code_in_the_pdf_opens_the_listing(sheet: FlyerSheet) -> None:
    codes = [
        text for picture in pdf_pictures(render_flyer_pdf(sheet)) for text in qr_texts(picture)
    ]

    assert codes == [LISTING_URL]


def test_license_line_only_when_set(sheet: FlyerSheet) -> None:
    text = pdf_text(render_flyer_pdf(dataclasses.replace(sheet, license_number=None)))

    assert "License" not in text
    assert "Equal Housing Opportunity" in text


def test_builder_and_price_wording(sheet: FlyerSheet) -> None:
    other = dataclasses.replace(
        sheet, builder_name="Acme Homes", price=None, garage=0, beds=1, baths=Decimal("1")
    )
    text = pdf_text(render_flyer_pdf(other))

    assert "Home built by Acme Homes" in text
    assert "Price on request" in text
    assert "1 bed · 1 bath · 1,850 sq ft" in text
    assert "garage" not in text.replace("2-car garage", "")


def test_without_a_link_there_is_no_code(sheet: FlyerSheet) -> None:
    for url in (None, "", "javascript:alert(1)", "ftp://example.com/home", "https://"):
        pdf = render_flyer_pdf(dataclasses.replace(sheet, listing_url=url))
        assert [t for p in pdf_pictures(pdf) for t in qr_texts(p)] == [], url
        assert len(pdf_pictures(pdf)) == 1  # the photo only


def test_photo_is_embedded_as_jpeg_at_most_2000_px(sheet: FlyerSheet) -> None:
    from tests.services.rendering.conftest import house_photo

    big = dataclasses.replace(sheet, photo=house_photo(4000, 3000, "PNG"))
    photos = [p for p in pdf_pictures(render_flyer_pdf(big)) if not qr_texts(p)]

    assert len(photos) == 1
    assert photos[0].size == (2000, 1500)
    assert photos[0].format == "JPEG"


def test_render_flyer_gives_the_same_pdf(sheet: FlyerSheet) -> None:
    files = render_flyer(sheet)

    assert files.pdf == render_flyer_pdf(sheet)
    assert files.truncated is False
    assert files.preview_png.startswith(b"\x89PNG\r\n\x1a\n")


def test_rendering_leaves_no_decoded_photo_behind(sheet: FlyerSheet) -> None:
    def images() -> list[object]:
        return [o for o in gc.get_objects() if isinstance(o, (ImageReader, Image.Image))]

    gc.collect()
    gc.disable()  # only what the renderer itself frees counts
    try:
        before = images()  # other tests' pictures, held here so that no id is reused
        render_flyer_pdf(sheet)
        left = [o for o in images() if not any(o is b for b in before)]
    finally:
        gc.enable()

    assert left == []
