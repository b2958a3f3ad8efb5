"""Breaking text into lines that fit a width, and cutting it with an ellipsis when it must."""

from __future__ import annotations

from services.rendering.fonts import string_width

ELLIPSIS = "…"
_TRAILING = " ,.;:-–—·"


def wrap(text: str, size: float, width: float, *, bold: bool = False) -> list[str]:
    """Lines of `text` no wider than `width`; newlines start a new line; a word longer than
    the line (a URL, a run of digits) is broken between characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if string_width(candidate, size, bold=bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while string_width(word, size, bold=bold) > width:
                cut = chars_that_fit(word, size, width, bold)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        if line:
            lines.append(line)
    return lines


def chars_that_fit(word: str, size: float, width: float, bold: bool = False) -> int:
    """How many leading characters of `word` fit `width` (at least one)."""
    low, high = 1, len(word)  # at least one character per line, or wrapping never ends
    while low < high:
        mid = (low + high + 1) // 2
        if string_width(word[:mid], size, bold=bold) <= width:
            low = mid
        else:
            high = mid - 1
    return low


def ellipsize(line: str, size: float, width: float, *, bold: bool = False) -> str:
    """`line` shortened (whole words first) so that it plus "…" fits `width`."""
    text = line.rstrip(_TRAILING)
    while text and string_width(text + ELLIPSIS, size, bold=bold) > width:
        text = text[: text.rfind(" ")] if " " in text else text[:-1]
        text = text.rstrip(_TRAILING)
    return text + ELLIPSIS


def clip(
    lines: list[str], max_lines: int, size: float, width: float, *, bold: bool = False
) -> tuple[list[str], bool]:
    """At most `max_lines` lines, the last one ending in "…" if any were dropped."""
    if len(lines) <= max_lines:
        return lines, False
    if max_lines <= 0:
        return [], True
    kept = lines[:max_lines]
    kept[-1] = ellipsize(kept[-1], size, width, bold=bold)
    return kept, True


def fit_line(
    text: str, sizes: tuple[float, ...], width: float, *, bold: bool = False
) -> tuple[str, float, bool]:
    """One line: the largest size at which `text` fits, else the smallest size, cut with "…".

    Returns the text drawn, its size and whether it was cut.
    """
    for size in sizes:
        if string_width(text, size, bold=bold) <= width:
            return text, size, False
    size = sizes[-1]
    return ellipsize(text, size, width, bold=bold), size, True


def fit_block(
    text: str, sizes: tuple[float, ...], width: float, max_lines: int, *, bold: bool = False
) -> tuple[list[str], float, bool]:
    """Up to `max_lines` wrapped lines at the largest size that needs no cut."""
    for size in sizes:
        lines = wrap(text, size, width, bold=bold)
        if len(lines) <= max_lines:
            return lines, size, False
    size = sizes[-1]
    lines, cut = clip(wrap(text, size, width, bold=bold), max_lines, size, width, bold=bold)
    return lines, size, cut
