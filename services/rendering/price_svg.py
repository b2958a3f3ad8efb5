"""A home's price history as a small inline SVG chart, drawn on the server.

A step line: the price holds until it changes. No script, no style attribute (the
dashboard's Content-Security-Policy allows neither): colours are SVG presentation
attributes, and the text is escaped. A few dozen points cost microseconds, so the
listings page draws one per home.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.display import money

WIDTH = 240
HEIGHT = 64
_PAD_X = 4
_PAD_TOP = 6
_PAD_BOTTOM = 14


@dataclass(frozen=True)
class PricePoint:
    """The price from `at` on."""

    at: datetime
    price: Decimal


def price_steps(
    changes: Sequence[tuple[datetime, Decimal | None, Decimal | None]],
    current: Decimal | None,
    now: datetime,
) -> list[PricePoint]:
    """The prices over time from (when, old, new) changes, oldest first, up to `now`."""
    points: list[PricePoint] = []
    for at, old, new in changes:
        if not points and old is not None:
            points.append(PricePoint(at, old))
        if new is not None:
            points.append(PricePoint(at, new))
    if current is not None:
        if not points:
            return [PricePoint(now, current)]
        points.append(PricePoint(max(now, points[-1].at), current))
    return points


def price_chart_svg(points: Sequence[PricePoint], *, label: str = "Price history") -> str:
    """An <svg> of the step line through `points` (escaped, no script); "" without points."""
    if not points:
        return ""
    prices = [float(p.price) for p in points]
    low, high = min(prices), max(prices)
    start, end = points[0].at.timestamp(), points[-1].at.timestamp()
    span_t = end - start or 1.0
    span_p = high - low or 1.0
    plot_w = WIDTH - 2 * _PAD_X
    plot_h = HEIGHT - _PAD_TOP - _PAD_BOTTOM

    def x(at: datetime) -> float:
        return _PAD_X + (at.timestamp() - start) / span_t * plot_w if end > start else WIDTH / 2

    def y(price: float) -> float:
        if high == low:
            return _PAD_TOP + plot_h / 2
        return _PAD_TOP + (high - price) / span_p * plot_h

    coords: list[str] = []
    for i, point in enumerate(points):
        px, py = x(point.at), y(prices[i])
        if i:
            coords.append(f"{px:.1f},{y(prices[i - 1]):.1f}")
        coords.append(f"{px:.1f},{py:.1f}")
    if len(points) == 1:
        coords = [f"{_PAD_X:.1f},{y(prices[0]):.1f}", f"{WIDTH - _PAD_X:.1f},{y(prices[0]):.1f}"]
    dots = "".join(
        f'<circle cx="{x(p.at):.1f}" cy="{y(prices[i]):.1f}" r="2.5">'
        f"<title>{html.escape(money(p.price))} from {p.at:%b %d, %Y}</title></circle>"
        for i, p in enumerate(points)
    )
    first, last = money(points[0].price), money(points[-1].price)
    summary = f"{label}: {first} to {last}" if len(points) > 1 else f"{label}: {last}"
    trend = "down" if prices[-1] < prices[0] else "up" if prices[-1] > prices[0] else "flat"
    return (
        f'<svg class="price-chart {trend}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{html.escape(summary)}" '
        'xmlns="http://www.w3.org/2000/svg">'
        f"<title>{html.escape(summary)}</title>"
        f'<polyline fill="none" stroke="currentColor" stroke-width="2" '
        f'points="{" ".join(coords)}"/>'
        f'<g fill="currentColor">{dots}</g>'
        f'<text x="{_PAD_X}" y="{HEIGHT - 2}" font-size="10" fill="#555">'
        f"{html.escape(money(Decimal(str(low))))}</text>"
        f'<text x="{WIDTH - _PAD_X}" y="{HEIGHT - 2}" font-size="10" fill="#555" '
        f'text-anchor="end">{html.escape(money(Decimal(str(high))))}</text>'
        "</svg>"
    )
