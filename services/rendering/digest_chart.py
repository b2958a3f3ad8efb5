"""The weekly digest's numbers and its chart: reach and views per post, the best one marked.

`summarize_week` gives the numbers the message text quotes; `render_digest_chart` draws the
same numbers, so the two never disagree. matplotlib is imported inside the renderer: it
costs about 50 MB of memory, which the bot pays only while a digest is drawn. It is used
through `Figure` and the Agg canvas only (no pyplot and its global state), so two digests may
be drawn in two threads at once.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from services.rendering.fonts import printable
from services.rendering.text_fit import ELLIPSIS

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

MAX_BARS = 12
LABEL_CHARS = 34
TITLE_CHARS = 60
DPI = 120
WIDTH_IN = 9.0
HEADER_IN = 1.15
REACH_COLOR = "#1F4E79"
VIEWS_COLOR = "#8FBBDA"
BEST_BAND = "#FFF1C9"
MUTED = "#5A6068"
PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram"}


@dataclass(frozen=True, slots=True)
class PostInsight:
    """One published post and what Graph reported for it; None where a metric is missing."""

    label: str  # e.g. "Mon 12/1 · 123 Oak St"
    platform: str
    reach: int | None
    views: int | None
    permalink: str | None = None


@dataclass(frozen=True, slots=True)
class WeekSummary:
    """The digest's numbers. A total is None when no post reported that metric."""

    posts: int
    total_reach: int | None
    total_views: int | None
    best: PostInsight | None
    per_platform: tuple[tuple[str, int], ...]


def _rank_key(post: PostInsight) -> tuple[int, int]:
    # Missing sorts below a reported zero.
    return (-1 if post.reach is None else post.reach, -1 if post.views is None else post.views)


def ranked(posts: Sequence[PostInsight]) -> list[PostInsight]:
    """Best first: by reach, then views; equal posts keep their order."""
    return sorted(posts, key=_rank_key, reverse=True)


def summarize_week(posts: Sequence[PostInsight]) -> WeekSummary:
    """Totals of the reported metrics and the best post (None if no post reached anyone)."""
    reach = [p.reach for p in posts if p.reach is not None]
    views = [p.views for p in posts if p.views is not None]
    top = max(posts, key=_rank_key, default=None)  # max keeps the first of equals
    best = top if top is not None and (top.reach or 0) + (top.views or 0) > 0 else None
    platforms = Counter(p.platform for p in posts)
    return WeekSummary(
        posts=len(posts),
        total_reach=sum(reach) if reach else None,
        total_views=sum(views) if views else None,
        best=best,
        per_platform=tuple(sorted(platforms.items())),
    )


def totals_line(summary: WeekSummary) -> str:
    """'5 posts · reach 1,234 · views 5,678' (metrics nobody reported are left out)."""
    parts = [f"{summary.posts} post{'' if summary.posts == 1 else 's'}"]
    if summary.total_reach is not None:
        parts.append(f"reach {summary.total_reach:,}")
    if summary.total_views is not None:
        parts.append(f"views {summary.total_views:,}")
    return " · ".join(parts)


@cache
def _matplotlib_dirs() -> None:
    # matplotlib writes a font cache under ~/.cache (or MPLCONFIGDIR); with no writable home
    # it makes a temporary one itself but warns on every start, so choose one quietly.
    if os.environ.get("MPLCONFIGDIR"):
        return
    try:
        home = Path.home()
        wanted = [
            Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache"),
            Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config"),
        ]
        usable = all(_writable(path) for path in wanted)
    except RuntimeError:  # no home directory at all
        usable = False
    if not usable:
        os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="rltr-mpl-")


def _writable(path: Path) -> bool:
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK)


def render_digest_chart(posts: Sequence[PostInsight], *, title: str, week_label: str) -> bytes:
    """A PNG, 1100 px wide: grouped horizontal bars of reach and views per post, best on top
    and highlighted, at most MAX_BARS posts (then "+k more"); a short notice for no posts."""
    _matplotlib_dirs()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    summary = summarize_week(posts)
    shown = ranked(posts)[:MAX_BARS]
    height = HEADER_IN + (1.6 if not shown else 0.4 + 0.72 * len(shown))
    # The header is placed by hand (title, subtitle, legend, all flush left); the layout
    # engine fits the bars and their labels into the rest.
    body = 1 - HEADER_IN / height
    fig = Figure(
        figsize=(WIDTH_IN, height),
        dpi=DPI,
        layout=ConstrainedLayoutEngine(rect=(0, 0, 1, body)),
    )
    FigureCanvasAgg(fig)
    left = 0.15 / WIDTH_IN

    def at(inches: float) -> float:  # figure y of a point `inches` below the top
        return 1 - inches / height

    # parse_math=False everywhere: a "$" in an address or a price is text, not TeX.
    fig.text(
        left, at(0.18), printable(title), fontsize=16, fontweight="bold", va="top", parse_math=False
    )
    fig.text(
        left,
        at(0.55),
        f"{printable(week_label)}  ·  {totals_line(summary)}",
        fontsize=12,
        color=MUTED,
        va="top",
        parse_math=False,
    )
    if not shown:
        fig.text(
            0.5,
            body / 2,
            "No posts published this week",
            ha="center",
            va="center",
            fontsize=14,
            color=MUTED,
        )
    else:
        ax = fig.add_subplot()
        handles = _bars(ax, shown, summary.best)
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(left, at(0.82)),
            fontsize=10.5,
            frameon=False,
            ncols=len(handles),
            borderaxespad=0,
            borderpad=0,
        )
        hidden = len(posts) - len(shown)
        if hidden:
            fig.supxlabel(
                f"+{hidden} more post{'s' if hidden > 1 else ''} not shown",
                x=left,
                ha="left",
                fontsize=10.5,
                color=MUTED,
            )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _short(text: str, limit: int) -> str:
    text = printable(text).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _label(post: PostInsight) -> str:
    text = _short(post.label, LABEL_CHARS)
    platform = PLATFORM_NAMES.get(post.platform, printable(post.platform).capitalize())
    return f"{text}\n{platform}"


def _bars(ax: Axes, shown: list[PostInsight], best: PostInsight | None) -> list[Artist]:
    """Draw the bars; returns the legend entries."""
    from matplotlib.patches import Patch

    rows = list(range(len(shown)))
    bar_h = 0.38
    reach = [p.reach or 0 for p in shown]
    views = [p.views or 0 for p in shown]
    top = max([*reach, *views, 1])
    for row, post in zip(rows, shown, strict=True):
        if post is best:
            ax.axhspan(row - 0.5, row + 0.5, color=BEST_BAND, zorder=0)
    for offset, values, metric, color in (
        (-bar_h / 2, reach, "reach", REACH_COLOR),
        (bar_h / 2, views, "views", VIEWS_COLOR),
    ):
        bars = ax.barh([r + offset for r in rows], values, height=bar_h, color=color, zorder=2)
        numbers = [
            "n/a" if getattr(p, metric) is None else f"{getattr(p, metric):,}" for p in shown
        ]
        ax.bar_label(
            bars, labels=numbers, padding=4, fontsize=10.5, color="#222222", parse_math=False
        )
    labels = [_label(p) for p in shown]
    ax.set_yticks(rows, labels, fontsize=11, parse_math=False)
    for tick, post in zip(ax.get_yticklabels(), shown, strict=True):
        if post is best:
            tick.set_fontweight("bold")
    ax.set_ylim(len(shown) - 0.5, -0.5)  # best on top
    ax.set_xlim(0, top * 1.18)  # room for the numbers after the longest bar
    ax.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles: list[Artist] = [Patch(color=REACH_COLOR, label="Reach")]
    handles.append(Patch(color=VIEWS_COLOR, label="Views"))
    if best is not None:
        handles.append(Patch(color=BEST_BAND, label="Best post"))
    return handles
