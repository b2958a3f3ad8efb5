"""Line breaking and cutting for the flyer, and the font's reach (what it can print)."""

from __future__ import annotations

from services.rendering.fonts import printable, string_width
from services.rendering.text_fit import clip, ellipsize, fit_block, fit_line, wrap

WIDTH = 120.0


def test_wrap_keeps_every_line_within_the_width() -> None:
    text = "A short start, then https://example.com/" + "x" * 120 + " and a tail.\nNew line."
    lines = wrap(text, 10, WIDTH)

    assert all(string_width(line, 10) <= WIDTH for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")
    assert lines[-1] == "New line."


def test_ellipsize_cuts_whole_words_first() -> None:
    line = "Granite countertops and a covered lanai"
    cut = ellipsize(line, 10, string_width("Granite countertops and", 10) + 2)

    assert cut == "Granite countertops…"


def test_clip_marks_dropped_lines() -> None:
    lines = ["one two three", "four five six", "seven eight"]

    assert clip(lines, 3, 10, WIDTH) == (lines, False)
    kept, cut = clip(lines, 2, 10, WIDTH)
    assert cut and kept[0] == "one two three" and kept[1].endswith("…")
    assert clip(lines, 0, 10, WIDTH) == ([], True)


def test_fit_line_prefers_the_largest_size() -> None:
    assert fit_line("Jane Doe", (15, 11), WIDTH) == ("Jane Doe", 15, False)
    long = "Dr. Maximilian Alexander Featherstonehaugh"
    text, size, cut = fit_line(long, (15, 11), WIDTH)
    assert size == 11 and cut and text.endswith("…")
    assert string_width(text, 11) <= WIDTH


def test_fit_block_shrinks_then_cuts() -> None:
    text = "Brand-new four-bedroom home with a pool"
    lines, size, cut = fit_block(text, (26, 18), 330, 2, bold=True)
    assert not cut and len(lines) <= 2 and size in (26, 18)
    lines, size, cut = fit_block(text * 5, (26, 18), 200, 2, bold=True)
    assert cut and size == 18 and len(lines) == 2 and lines[1].endswith("…")


def test_printable_drops_what_the_font_cannot_draw() -> None:
    text = "Pool 🏊‍♀️ & spa\x00 \u200fשלום Привет\t Ελλάδα  — café\u00a0au lait\r\n\nNext"

    assert printable(text) == "Pool & spa שלום Привет Ελλάδα — café au lait\n\nNext"


def test_printable_composes_accents() -> None:
    assert printable("cafe\u0301") == "café"
