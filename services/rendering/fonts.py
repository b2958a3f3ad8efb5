"""The one font family every renderer uses, found without any system font.

DejaVu Sans ships inside matplotlib (a dependency, for the digest chart), so the slim Docker
image needs no font package. It covers Latin, Greek, Cyrillic, Hebrew and many symbols;
characters it has no glyph for (emoji, most CJK) are dropped rather than printed as boxes.
If that copy is missing, reportlab's bundled Bitstream Vera (DejaVu's ancestor) stands in.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "RltrSans"
BOLD = "RltrSans-Bold"

# Control and format characters (direction marks, zero-width joiners, NUL...) draw as boxes
# or nothing; tabs and other spaces become one plain space.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
_VARIATION = re.compile(r"[\ufe00-\ufe0f]")  # emoji/text presentation selectors
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


@dataclass(frozen=True)
class FontFiles:
    """Paths of the regular and bold faces."""

    regular: Path
    bold: Path


def _package_dir(name: str) -> Path | None:
    # find_spec on a top-level package locates it without importing it (matplotlib's import
    # costs tens of megabytes).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def font_files() -> FontFiles:
    """DejaVu Sans from matplotlib's data, else reportlab's Vera."""
    mpl = _package_dir("matplotlib")
    if mpl is not None:
        ttf = mpl / "mpl-data" / "fonts" / "ttf"
        regular, bold = ttf / "DejaVuSans.ttf", ttf / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return FontFiles(regular, bold)
    rl = _package_dir("reportlab")
    if rl is None:  # pragma: no cover - reportlab is a dependency
        raise RuntimeError("reportlab is not installed")
    return FontFiles(rl / "fonts" / "Vera.ttf", rl / "fonts" / "VeraBd.ttf")


@cache
def register_pdf_fonts() -> None:
    """Register the two faces with reportlab (a process-wide registry), once."""
    files = font_files()
    pdfmetrics.registerFont(TTFont(REGULAR, str(files.regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(files.bold)))


@cache
def _coverage() -> frozenset[int]:
    register_pdf_fonts()
    regular = pdfmetrics.getFont(REGULAR).face.charToGlyph
    bold = pdfmetrics.getFont(BOLD).face.charToGlyph
    return frozenset(regular) & frozenset(bold)


def printable(text: str) -> str:
    """`text` reduced to what the font can draw: NFC, no control characters, single spaces.

    Newlines are kept (they separate paragraphs); everything without a glyph is dropped.
    """
    covered = _coverage()
    out = []
    dropped = joined = False
    for ch in unicodedata.normalize("NFC", text):
        if joined:  # the rest of an emoji sequence whose first part had no glyph: "🏊‍♀"
            joined = False
        elif ch == "\u200d":
            joined = dropped
        elif ch == "\n" or ch == "\t" or unicodedata.category(ch) == "Zs":
            out.append("\n" if ch == "\n" else " ")
            dropped = False
        elif _VARIATION.match(ch) is None and unicodedata.category(ch) not in _INVISIBLE:
            dropped = ord(ch) not in covered
            if not dropped:
                out.append(ch)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(out).split("\n"))
    return "\n".join(lines).strip()


def string_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width of one line in points, as the PDF will set it."""
    register_pdf_fonts()
    return float(pdfmetrics.stringWidth(text, BOLD if bold else REGULAR, size))


@lru_cache(maxsize=32)
def pillow_font(px: float, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The same face for Pillow, at a pixel size."""
    files = font_files()
    return ImageFont.truetype(str(files.bold if bold else files.regular), px)
