"""A printable one-page US Letter PDF flyer and a PNG preview of the same page.

reportlab, not weasyprint: reportlab is pure Python wheels and needs no system library,
while weasyprint needs Cairo/Pango from the operating system. The preview is painted with
Pillow from the same layout as the PDF (no PDF rasteriser such as poppler at runtime), so
the photo, headline, facts, QR code, agent block and disclosures sit where they print.

Text is drawn line by line with `drawString`, which takes plain text: nothing in a listing
or a writer's text is parsed as markup, so `<b>&amp;` prints as typed.
"""

from __future__ import annotations

import gc
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from services.rendering.flyer_images import jpeg_bytes
from services.rendering.flyer_layout import flyer_layout
from services.rendering.flyer_page import PAGE_H, PAGE_W, RGB, FlyerLayout
from services.rendering.flyer_sheet import DEFAULT_BUILDER, FlyerSheet, flyer_sheet
from services.rendering.fonts import BOLD, REGULAR, pillow_font, register_pdf_fonts

__all__ = [
    "DEFAULT_BUILDER",
    "PREVIEW_SIZE",
    "FlyerFiles",
    "FlyerSheet",
    "flyer_sheet",
    "render_flyer",
    "render_flyer_pdf",
    "render_flyer_preview_png",
]

# 150 dpi: sharp on a phone, far below Telegram's photo limits (10 MB, 10000 px a side).
PREVIEW_SIZE = (1275, 1650)
_SCALE = PREVIEW_SIZE[0] / PAGE_W
_ANCHORS = {"left": "ls", "center": "ms", "right": "rs"}


@dataclass(frozen=True)
class FlyerFiles:
    """The flyer to send: the PDF as a document and the PNG as its preview photo."""

    pdf: bytes
    preview_png: bytes
    truncated: bool  # some text was cut with "…" to keep one page


def render_flyer(sheet: FlyerSheet) -> FlyerFiles:
    """The PDF and its preview from one layout (the photo is decoded once)."""
    page = flyer_layout(sheet)
    return FlyerFiles(_pdf(page, sheet), _png(page), page.truncated)


def render_flyer_pdf(sheet: FlyerSheet) -> bytes:
    """The flyer as a one-page US Letter PDF."""
    return _pdf(flyer_layout(sheet), sheet)


def render_flyer_preview_png(sheet: FlyerSheet) -> bytes:
    """The flyer page as a 1275×1650 PNG (the PDF at 150 dpi)."""
    return _png(flyer_layout(sheet))


def _pdf(page: FlyerLayout, sheet: FlyerSheet) -> bytes:
    register_pdf_fonts()
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=LETTER, invariant=True)
    pdf.setTitle(f"{sheet.address}, {sheet.city}")
    pdf.setAuthor(sheet.agent_name)
    for box in page.boxes:
        pdf.setFillColorRGB(*_unit(box.fill))
        pdf.rect(box.x, PAGE_H - box.y - box.h, box.w, box.h, stroke=0, fill=1)
    for pic in page.pictures:
        # The photo goes in as JPEG (embedded as is); the QR code as lossless pixels.
        source = io.BytesIO(jpeg_bytes(pic.image)) if pic.role == "photo" else pic.image
        pdf.drawImage(ImageReader(source), pic.x, PAGE_H - pic.y - pic.h, pic.w, pic.h)
    for run in page.texts:
        pdf.setFont(BOLD if run.bold else REGULAR, run.size)
        pdf.setFillColorRGB(*_unit(run.color))
        y = PAGE_H - run.baseline
        if run.anchor == "center":
            pdf.drawCentredString(run.x, y, run.text)
        elif run.anchor == "right":
            pdf.drawRightString(run.x, y, run.text)
        else:
            pdf.drawString(run.x, y, run.text)
    pdf.showPage()
    pdf.save()
    # reportlab's ImageReader for a JPEG refers to itself (a bound method kept on the
    # instance), so each flyer's decoded photo (megabytes) would wait for a full garbage
    # collection, which a long-running bot may not see for hours.
    gc.collect()
    return buf.getvalue()


def _unit(color: RGB) -> tuple[float, float, float]:
    return color[0] / 255, color[1] / 255, color[2] / 255


def _px(value: float) -> int:
    return round(value * _SCALE)


def _png(page: FlyerLayout) -> bytes:
    img = Image.new("RGB", PREVIEW_SIZE, "white")
    draw = ImageDraw.Draw(img)
    for box in page.boxes:
        x0, y0 = _px(box.x), _px(box.y)
        draw.rectangle(
            (x0, y0, max(x0, _px(box.x + box.w) - 1), max(y0, _px(box.y + box.h) - 1)),
            fill=box.fill,
        )
    for pic in page.pictures:
        size = (_px(pic.w), _px(pic.h))
        # The QR code keeps hard module edges; the photo is smoothed.
        resample = Image.Resampling.NEAREST if pic.role == "qr" else Image.Resampling.LANCZOS
        img.paste(pic.image.resize(size, resample), (_px(pic.x), _px(pic.y)))
    for run in page.texts:
        font = pillow_font(run.size * _SCALE, bold=run.bold)
        draw.text(
            (_px(run.x), _px(run.baseline)),
            run.text,
            font=font,
            fill=run.color,
            anchor=_ANCHORS[run.anchor],
        )
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
