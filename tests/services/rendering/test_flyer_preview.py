"""The PNG preview sent to Telegram with the PDF: the same page, painted with Pillow."""

from __future__ import annotations

import dataclasses
import io
import random

from PIL import Image

from services.rendering.flyer_layout import flyer_layout
from services.rendering.flyer_page import BAND
from services.rendering.flyer_pdf import PREVIEW_SIZE, FlyerSheet, render_flyer_preview_png
from tests.services.rendering.conftest import LISTING_URL, long_sheet
from tests.services.rendering.pdf_helpers import qr_texts

TELEGRAM_PHOTO_MAX_BYTES = 10 * 1024 * 1024


def _preview(sheet: FlyerSheet) -> Image.Image:
    img = Image.open(io.BytesIO(render_flyer_preview_png(sheet)))
    assert img.format == "PNG"
    return img.convert("RGB")


def test_preview_is_the_page_at_150_dpi(sheet: FlyerSheet) -> None:
    assert PREVIEW_SIZE == (1275, 1650)  # 8.5 × 11 in
    assert _preview(sheet).size == PREVIEW_SIZE


def test_preview_qr_code_opens_the_listing(sheet: FlyerSheet) -> None:
    assert qr_texts(_preview(sheet)) == [LISTING_URL]


def test_preview_shows_the_photo_where_the_pdf_has_it(sheet: FlyerSheet) -> None:
    (photo,) = [p for p in flyer_layout(sheet).pictures if p.role == "photo"]
    scale = 1275 / 612
    img = _preview(sheet)
    # The synthetic photo: sky at the top, house in the middle, lawn at the bottom.
    sky = img.getpixel((round((photo.x + 10) * scale), round((photo.y + 10) * scale)))
    lawn = img.getpixel((round((photo.x + 10) * scale), round((photo.y + photo.h - 10) * scale)))

    assert _near(sky, (120, 170, 235))
    assert _near(lawn, (70, 130, 60))


def _near(pixel: object, color: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) < 12 for a, b in zip(pixel, color, strict=True))  # JPEG noise


def test_preview_without_photo_shows_the_band(sheet: FlyerSheet) -> None:
    img = _preview(dataclasses.replace(sheet, photo=None))

    assert img.getpixel((100, 100)) == BAND
    assert qr_texts(img) == [LISTING_URL]


def test_noisy_photo_preview_stays_under_telegram_limits(sheet: FlyerSheet) -> None:
    rnd = random.Random(7)
    noise = Image.frombytes("RGB", (2000, 1333), rnd.randbytes(2000 * 1333 * 3))
    buf = io.BytesIO()
    noise.save(buf, "JPEG", quality=95)

    png = render_flyer_preview_png(dataclasses.replace(sheet, photo=buf.getvalue()))

    assert len(png) < TELEGRAM_PHOTO_MAX_BYTES
    assert max(Image.open(io.BytesIO(png)).size) <= 10_000


def test_long_text_stays_inside_the_margins(sheet: FlyerSheet) -> None:
    img = _preview(long_sheet(sheet))
    margin = round(36 * 1275 / 612)  # half an inch
    width, height = img.size
    strips = {
        "left": (0, 0, margin - 1, height),
        "right": (width - margin + 2, 0, width, height),
        "top": (0, 0, width, margin - 1),
        "bottom": (0, height - margin + 2, width, height),
    }
    for side, box in strips.items():
        darkest, _ = img.crop(box).convert("L").getextrema()
        assert darkest == 255, side
