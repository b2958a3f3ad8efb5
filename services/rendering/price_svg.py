"""A home's price history as a small inline SVG chart, drawn on the server.

A step line: the price holds until it changes. The highest and lowest prices label the
left edge, the first and last dates the bottom. No script and no style attribute (the
dashboard's Content-Security-Policy allows neither): colours are SVG presentation
attributes and every text is escaped. A few dozen points cost microseconds, so the
listings page draws one per home.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.display import money

WIDTH = 320
HEIGHT = 96
_LEFT = 64  # room for the price labels
_RIGHT = 8
_TOP = 8
_BOTTOM = 22  # room for the date labels


@dataclass(frozen=True)
class PricePoint:
    """The price from `at` on."""

    at: datetime
    price: Decimal


def price_steps(
    changes: Sequence[tuple[datetime, Decimal | None, Decimal | None]],
    current: Decimal | None,
    now: datetime,
    first_seen: datetime | None = None,
) -> list[PricePoint]:
    """The prices over time, oldest first, up to `now`: the first change's old price from
    `first_seen` (when the home was first seen) on, each new price from its change on."""
    points: list[PricePoint] = []
    for at, old, new in changes:
        if not points and old is not None:
            start = first_seen if first_seen is not None and first_seen < at else at
            points.append(PricePoint(start, old))
        if new is not None:
            points.append(PricePoint(at, new))
    if current is not None:
        if not points:
            return [PricePoint(now, current)]
        points.append(PricePoint(max(now, points[-1].at), current))
    return points


def _day(at: datetime) -> str:
    return f"{at:%b} {at.day}, {at.year}"


def price_chart_svg(points: Sequence[PricePoint], *, label: str = "Price history") -> str:
    """An <svg> of the step line through `points` (escaped, no script); "" with fewer than
    two points (there is no history to draw)."""
    if len(points) < 2:
        return ""
    prices = [float(p.price) for p in points]
    low, high = min(prices), max(prices)
    start, end = points[0].at.timestamp(), points[-1].at.timestamp()
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM

    def x(at: datetime) -> float:
        return _LEFT + ((at.timestamp() - start) / (end - start) * plot_w if end > start else 0)

    def y(price: float) -> float:
        return _TOP + ((high - price) / (high - low) * plot_h if high > low else plot_h / 2)

    coords = [f"{x(points[0].at):.1f},{y(prices[0]):.1f}"]
    for i in range(1, len(points)):
        px = x(points[i].at)
        coords.append(f"{px:.1f},{y(prices[i - 1]):.1f}")
        coords.append(f"{px:.1f},{y(prices[i]):.1f}")
    dots = "".join(
        f'<circle cx="{x(p.at):.1f}" cy="{y(prices[i]):.1f}" r="3">'
        f"<title>{html.escape(money(p.price))} from {_day(p.at)}</title></circle>"
        for i, p in enumerate(points[:-1])
    )
    first, last = money(points[0].price), money(points[-1].price)
    summary = f"{label}: {first} on {_day(points[0].at)}, {last} now"
    trend = "down" if prices[-1] < prices[0] else "up" if prices[-1] > prices[0] else "flat"
    axis_y = HEIGHT - _BOTTOM
    labels = [
        (_LEFT - 6, _TOP + 4, "end", money(Decimal(str(high)))),
        (_LEFT - 6, axis_y, "end", money(Decimal(str(low)))),
        (_LEFT, HEIGHT - 4, "start", _day(points[0].at)),
        (WIDTH - _RIGHT, HEIGHT - 4, "end", "now"),
    ]
    texts = "".join(
        f'<text x="{tx}" y="{ty}" text-anchor="{anchor}">{html.escape(words)}</text>'
        for tx, ty, anchor, words in (labels if high > low else labels[1:])
    )
    return (
        f'<svg class="price-chart {trend}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{html.escape(summary)}" '
        'xmlns="http://www.w3.org/2000/svg">'
        f"<title>{html.escape(summary)}</title>"
        f'<line x1="{_LEFT}" y1="{axis_y + 2}" x2="{WIDTH - _RIGHT}" y2="{axis_y + 2}" '
        'stroke="#dde2ea" stroke-width="1"/>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="2" '
        f'stroke-linejoin="round" points="{" ".join(coords)}"/>'
        f'<g fill="currentColor">{dots}</g>'
        f'<g font-size="10" fill="#5d6878">{texts}</g>'
        "</svg>"
    )
