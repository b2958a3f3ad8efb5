"""The main photo: kept upright and in proportion, and never trusted (size, pixels, format)."""

from __future__ import annotations

import dataclasses
import io
import logging
import struct
import zlib

import pytest
from PIL import Image

from services.rendering import flyer_images
from services.rendering.flyer_images import load_photo
from services.rendering.flyer_layout import PHOTO_H, flyer_layout
from services.rendering.flyer_page import CONTENT_W, MARGIN
from services.rendering.flyer_pdf import FlyerSheet, render_flyer
from tests.services.rendering.conftest import house_photo
from tests.services.rendering.pdf_helpers import pdf_pictures, pdf_text, qr_texts


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge canvas (a decompression bomb's first step)."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13]))
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def _real_png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (width, height), 200).save(buf, "PNG")
    return buf.getvalue()


def _assert_placeholder(sheet: FlyerSheet) -> None:
    files = render_flyer(sheet)
    assert "Photo coming soon" in pdf_text(files.pdf)
    pictures = pdf_pictures(files.pdf)
    assert len(pictures) == 1 and qr_texts(pictures[0])  # the QR code only
    assert Image.open(io.BytesIO(files.preview_png)).size == (1275, 1650)


@pytest.mark.parametrize(
    "photo",
    [
        b"not a picture at all",
        house_photo()[:5000],  # a JPEG cut off mid-download
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
        _png_claiming(100_000, 100_000),  # past Pillow's own bomb limit
        _real_png(5000, 5000),  # 25 MP: decodes, under Pillow's own limit, over ours
    ],
    ids=["garbage", "truncated-jpeg", "broken-png", "bomb", "huge-png"],
)
def test_unusable_photo_gives_the_placeholder(sheet: FlyerSheet, photo: bytes) -> None:
    _assert_placeholder(dataclasses.replace(sheet, photo=photo))


def test_too_many_bytes_is_refused_before_decoding(
    sheet: FlyerSheet, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = house_photo()
    monkeypatch.setattr(flyer_images, "MAX_PHOTO_BYTES", len(photo) - 1)
    with caplog.at_level(logging.WARNING):
        assert load_photo(photo) is None
    assert [r.__dict__.get("reason") for r in caplog.records] == ["too_large"]
    _assert_placeholder(dataclasses.replace(sheet, photo=photo))


def test_jpeg_pixel_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    photo = house_photo(1600, 1000)
    assert load_photo(photo) is not None
    monkeypatch.setattr(flyer_images, "MAX_JPEG_PIXELS", 1600 * 1000 - 1)
    assert load_photo(photo) is None


def test_large_jpeg_is_scaled_down() -> None:
    photo = load_photo(house_photo(6000, 4000))

    assert photo is not None
    assert photo.size == (2000, 1333)
    assert photo.mode == "RGB"


@pytest.mark.parametrize(
    ("size", "expect_w"), [((1600, 1067), 270 * 1600 / 1067), ((3000, 1000), CONTENT_W)]
)
def test_photo_keeps_its_proportions(
    sheet: FlyerSheet, size: tuple[int, int], expect_w: float
) -> None:
    layout = flyer_layout(dataclasses.replace(sheet, photo=house_photo(*size)))
    (photo,) = [p for p in layout.pictures if p.role == "photo"]

    assert photo.w == pytest.approx(expect_w)
    assert photo.w / photo.h == pytest.approx(size[0] / size[1], rel=1e-3)
    assert photo.h <= PHOTO_H
    assert photo.x == pytest.approx(MARGIN + (CONTENT_W - photo.w) / 2)  # centred


def test_photo_taken_sideways_is_turned_upright(sheet: FlyerSheet) -> None:
    img = Image.open(io.BytesIO(house_photo(1200, 800)))
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)

    photo = load_photo(buf.getvalue())

    assert photo is not None and photo.size == (800, 1200)


def test_transparent_png_sits_on_white() -> None:
    img = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")

    photo = load_photo(buf.getvalue())

    assert photo is not None and photo.getpixel((5, 5)) == (255, 255, 255)
