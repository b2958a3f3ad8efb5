"""However long the text, the flyer stays one page and nothing overlaps or leaves the page."""

from __future__ import annotations

import dataclasses
import itertools

from services.rendering.flyer_layout import FOOTER_H, flyer_layout
from services.rendering.flyer_page import MARGIN, PAGE_H, PAGE_W, TextRun
from services.rendering.flyer_pdf import FlyerSheet, render_flyer, render_flyer_pdf
from services.rendering.fonts import string_width
from tests.services.rendering.conftest import LONG_DESCRIPTION, long_sheet
from tests.services.rendering.pdf_helpers import pdf_reader, pdf_text

HOSTILE = "<b>&amp;</b> Tom & Jerry's <home> 🏡🔥 שלום עולם مرحبا Привет\x00\u200f\ttab"


def _box(run: TextRun) -> tuple[float, float, float, float]:
    width = string_width(run.text, run.size, bold=run.bold)
    left = {"left": run.x, "center": run.x - width / 2, "right": run.x - width}[run.anchor]
    return left, run.baseline - run.size * 0.8, left + width, run.baseline + run.size * 0.2


def _assert_tidy(sheet: FlyerSheet) -> None:
    runs = flyer_layout(sheet).texts
    boxes = [_box(run) for run in runs]
    for run, (x0, y0, x1, y1) in zip(runs, boxes, strict=True):
        assert x0 >= MARGIN - 0.01 and x1 <= PAGE_W - MARGIN + 0.01, run
        assert y0 >= MARGIN and y1 <= PAGE_H - MARGIN, run
    for (a, box_a), (b, box_b) in itertools.combinations(zip(runs, boxes, strict=True), 2):
        overlap = (
            box_a[0] < box_b[2]
            and box_b[0] < box_a[2]
            and box_a[1] < box_b[3]
            and box_b[1] < box_a[3]
        )
        assert not overlap, (a, b)


def test_normal_flyer_is_tidy(sheet: FlyerSheet) -> None:
    _assert_tidy(sheet)
    _assert_tidy(dataclasses.replace(sheet, photo=None))


def test_long_text_is_cut_to_one_tidy_page(sheet: FlyerSheet) -> None:
    long = long_sheet(sheet)
    files = render_flyer(long)
    text = pdf_text(files.pdf)

    assert len(pdf_reader(files.pdf).pages) == 1
    assert files.truncated
    assert "…" in text
    assert "Feature 0: a covered lanai" in text
    assert "Feature 29" not in text  # more bullets than fit are dropped
    for kept in (
        "Home built by Holiday Builders",
        "Equal Housing Opportunity",
        "License #SL3456789",
    ):
        assert kept in text
    _assert_tidy(long)


def test_body_text_never_enters_the_footer(sheet: FlyerSheet) -> None:
    footer_top = PAGE_H - MARGIN - FOOTER_H
    layout = flyer_layout(long_sheet(sheet))
    body = [run for run in layout.texts if "lanai" in run.text or "vaulted" in run.text]

    assert body
    assert max(run.baseline + run.size * 0.2 for run in body) < footer_top


def test_body_shrinks_before_it_is_cut(sheet: FlyerSheet) -> None:
    medium = dataclasses.replace(sheet, description=LONG_DESCRIPTION[:900])
    sizes = []
    for photo in (medium.photo, None):  # the photo band leaves the body less room
        layout = flyer_layout(dataclasses.replace(medium, photo=photo))
        assert not layout.truncated
        sizes.append({run.size for run in layout.texts if "vaulted ceiling" in run.text})

    with_photo, without_photo = sizes
    assert len(with_photo) == 1 and len(without_photo) == 1
    assert 8.0 <= min(with_photo) < min(without_photo) == 12.5


def test_hostile_text_prints_as_typed(sheet: FlyerSheet) -> None:
    hostile = dataclasses.replace(
        sheet,
        headline=HOSTILE,
        bullets=(HOSTILE, "<i>", "&lt;"),
        description=HOSTILE,
        agent_name="<script>alert(1)</script>",
        brokerage="Smith & Sons <Realty>",
    )
    text = pdf_text(render_flyer_pdf(hostile))

    assert "<b>&amp;</b> Tom & Jerry's <home>" in text
    assert "Привет" in text
    assert "<script>alert(1)</script>" in text
    assert "Smith & Sons <Realty>" in text
    assert "&lt;" in text
    assert "🏡" not in text and "\x00" not in text
    _assert_tidy(hostile)


def test_empty_optional_text_leaves_no_gaps_or_errors(sheet: FlyerSheet) -> None:
    bare = dataclasses.replace(
        sheet,
        beds=None,
        baths=None,
        sqft=None,
        garage=None,
        community=None,
        plan_name=None,
        subheadline="",
        bullets=(),
        description="",
        call_to_action="",
        agent_phone=None,
        brokerage=None,
        license_number=None,
    )
    text = pdf_text(render_flyer_pdf(bare))

    assert "Plan:" not in text and "Community:" not in text and "License" not in text
    assert "$289,990 Jane Doe" in text  # nothing printed between the price and the agent
    _assert_tidy(bare)
