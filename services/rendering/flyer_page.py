"""The drawing instructions of a flyer page, shared by the layout, the PDF and the preview.

Units are PDF points (1/72 inch) on a US Letter page, measured from the top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

RGB = tuple[int, int, int]
INK: RGB = (29, 29, 31)
MUTED: RGB = (84, 90, 98)
ACCENT: RGB = (31, 78, 121)
BAND: RGB = (236, 240, 244)
RULE: RGB = (201, 209, 218)

PAGE_W, PAGE_H = 612.0, 792.0  # US Letter
MARGIN = 36.0
CONTENT_W = PAGE_W - 2 * MARGIN


@dataclass(frozen=True)
class TextRun:
    """One line of text; `x` is its left edge, centre or right edge as `anchor` says."""

    x: float
    baseline: float
    text: str
    size: float
    bold: bool = False
    color: RGB = INK
    anchor: Literal["left", "center", "right"] = "left"


@dataclass(frozen=True)
class Box:
    """A filled rectangle (bands and rules)."""

    x: float
    y: float
    w: float
    h: float
    fill: RGB


@dataclass(frozen=True)
class Picture:
    """An image stretched to this rectangle (the layout already kept its aspect ratio)."""

    x: float
    y: float
    w: float
    h: float
    image: Image.Image
    role: Literal["photo", "qr"]


@dataclass
class FlyerLayout:
    """The page as drawing instructions: boxes first, then pictures, then text."""

    boxes: list[Box] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    texts: list[TextRun] = field(default_factory=list)
    truncated: bool = False

    def lines(
        self,
        lines: list[str],
        x: float,
        top: float,
        size: float,
        *,
        leading: float = 1.2,
        bold: bool = False,
        color: RGB = INK,
        anchor: Literal["left", "center", "right"] = "left",
    ) -> float:
        """Set `lines` from `top` down; returns the y just below the last line."""
        y = top
        for line in lines:
            self.texts.append(TextRun(x, y + size * 0.9, line, size, bold, color, anchor))
            y += size * leading
        return y
