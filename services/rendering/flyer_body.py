"""The flyer's body: feature bullets, description and call to action, fitted to their space.

The body gets the room left between the heading and the footer. It is set at the largest
size at which everything fits; at the smallest size, bullets beyond what fits are dropped and
the description is cut with "…", so a long text never pushes the page past one sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.rendering.flyer_page import ACCENT, CONTENT_W, INK, MARGIN, FlyerLayout
from services.rendering.flyer_sheet import FlyerSheet
from services.rendering.fonts import printable
from services.rendering.text_fit import clip, ellipsize, wrap

BODY_SIZES = (12.5, 12.0, 11.5, 11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0)
MAX_BULLETS = 12
LEADING = 1.3
COLUMN_GAP = 24.0
BULLET_INDENT = 11.0


@dataclass
class _Plan:
    size: float
    columns: list[list[list[str]]]  # column -> bullet -> lines
    paragraphs: list[list[str]]
    cta: list[str]
    truncated: bool

    @property
    def lead(self) -> float:
        return self.size * LEADING


def place_body(page: FlyerLayout, sheet: FlyerSheet, *, top: float, bottom: float) -> bool:
    """Draw the body between `top` and `bottom`; True if anything had to be cut."""
    bullets = [b for b in (printable(x) for x in sheet.bullets) if b]
    paragraphs = [p for p in printable(sheet.description).split("\n") if p]
    cta = printable(sheet.call_to_action)
    room = bottom - top
    for size in BODY_SIZES[:-1]:
        plan = _whole(bullets, paragraphs, cta, size)
        if _height(plan) <= room:
            break
    else:
        plan = _cut_to_fit(bullets, paragraphs, cta, BODY_SIZES[-1], room)
    _draw(page, plan, top)
    return plan.truncated


def _columns(bullets: list[str], size: float, count: int) -> tuple[list[list[list[str]]], bool]:
    width = (CONTENT_W - COLUMN_GAP * (count - 1)) / count - BULLET_INDENT
    per_column = -(-len(bullets) // count)
    columns: list[list[list[str]]] = []
    truncated = False
    for start in range(0, len(bullets), per_column or 1):
        column = []
        for bullet in bullets[start : start + per_column]:
            lines, cut = clip(wrap(bullet, size, width), 2, size, width)
            column.append(lines)
            truncated |= cut
        columns.append(column)
    return columns, truncated


def _column_count(bullets: list[str]) -> int:
    # Two columns once there are more than four bullets: short facts read well side by side.
    return 2 if len(bullets) > 4 else 1


def _whole(bullets: list[str], paragraphs: list[str], cta: str, size: float) -> _Plan:
    columns, cut_bullets = _columns(bullets[:MAX_BULLETS], size, _column_count(bullets))
    cta_lines, cut_cta = clip(wrap(cta, size, CONTENT_W, bold=True), 2, size, CONTENT_W, bold=True)
    return _Plan(
        size,
        columns,
        [wrap(p, size, CONTENT_W) for p in paragraphs],
        cta_lines,
        cut_bullets or cut_cta or len(bullets) > MAX_BULLETS,
    )


def _cut_to_fit(
    bullets: list[str], paragraphs: list[str], cta: str, size: float, room: float
) -> _Plan:
    plan = _whole(bullets, paragraphs, cta, size)
    gap = size * 0.8
    left = room - (len(plan.cta) * plan.lead + gap if plan.cta else 0.0)
    # The description keeps at least half of what is left when it is that long.
    text_h = _paragraphs_height(plan)
    bullet_room = left - (min(text_h, left / 2) + gap if plan.paragraphs else 0.0)
    count = min(len(bullets), MAX_BULLETS)
    while count and _columns_height(plan) > bullet_room:
        count -= 1
        plan.columns, _ = _columns(bullets[:count], size, _column_count(bullets))
        plan.truncated = True
    if plan.columns and plan.columns[0]:
        left -= _columns_height(plan) + gap
    kept: list[list[str]] = []
    used = 0.0
    for paragraph in plan.paragraphs:
        used += size * 0.5 if kept else 0.0
        lines = []
        for line in paragraph:
            if used + plan.lead > left:
                break
            lines.append(line)
            used += plan.lead
        if len(lines) < len(paragraph):
            plan.truncated = True
            if lines:
                lines[-1] = ellipsize(lines[-1], size, CONTENT_W)
                kept.append(lines)
            elif kept:
                kept[-1][-1] = ellipsize(kept[-1][-1], size, CONTENT_W)
            break
        kept.append(lines)
    plan.paragraphs = kept
    return plan


def _columns_height(plan: _Plan) -> float:
    heights = [
        sum(len(b) for b in column) * plan.lead + (len(column) - 1) * plan.size * 0.3
        for column in plan.columns
        if column
    ]
    return max(heights, default=0.0)


def _paragraphs_height(plan: _Plan) -> float:
    lines = sum(len(p) for p in plan.paragraphs)
    return lines * plan.lead + max(len(plan.paragraphs) - 1, 0) * plan.size * 0.5


def _height(plan: _Plan) -> float:
    parts = [_columns_height(plan), _paragraphs_height(plan), len(plan.cta) * plan.lead]
    present = [h for h in parts if h > 0]
    return sum(present) + max(len(present) - 1, 0) * plan.size * 0.8


def _draw(page: FlyerLayout, plan: _Plan, top: float) -> None:
    size, gap = plan.size, plan.size * 0.8
    y = top
    column_w = (CONTENT_W - COLUMN_GAP * (len(plan.columns) - 1)) / max(len(plan.columns), 1)
    bottoms = [y]
    for index, column in enumerate(plan.columns):
        x, cy = MARGIN + index * (column_w + COLUMN_GAP), y
        for lines in column:
            page.lines(["•"], x, cy, size, leading=LEADING, bold=True, color=ACCENT)
            cy = page.lines(lines, x + BULLET_INDENT, cy, size, leading=LEADING) + size * 0.3
        bottoms.append(cy - size * 0.3)
    y = max(bottoms)
    for index, paragraph in enumerate(plan.paragraphs):
        y += gap if index == 0 and y > top else size * 0.5 if index else 0.0
        y = page.lines(paragraph, MARGIN, y, size, leading=LEADING, color=INK)
    if plan.cta:
        y += gap if y > top else 0.0
        page.lines(plan.cta, MARGIN, y, size, leading=LEADING, bold=True, color=ACCENT)
