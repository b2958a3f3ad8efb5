"""The weekly digest's chart: reach and views per post, the best one marked.

The chart draws the numbers of `summarize_week`, which the message text quotes too, so the
two never disagree. matplotlib is imported inside the renderer: it costs about 50 MB of
memory, which a process pays only from its first digest on. It is used through `Figure` and
the Agg canvas only (no pyplot and its global state), so two digests may be drawn in two
threads at once.
"""

from __future__ import annotations

import gc
import io
import os
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from services.rendering.digest_summary import (
    PostInsight,
    ranked,
    summarize_week,
    totals_line,
)
from services.rendering.fonts import printable
from services.rendering.text_fit import ELLIPSIS

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
    # The directory, or the nearest existing ancestor it would be created in.
    while not path.exists() and path != path.parent:
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK)


def render_digest_chart(posts: Sequence[PostInsight], *, title: str, week_label: str) -> bytes:
    """A PNG, 1080 px wide: grouped horizontal bars of reach and views per post, best on top
    and highlighted, at most MAX_BARS posts (then "+k more"); a short notice for no posts."""
    fig = digest_figure(posts, title=title, week_label=week_label)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    del fig
    # A figure is a web of reference cycles: free it now rather than at some later full
    # collection, or a Monday's digests pile up in memory (about 5 MB each).
    gc.collect()
    return buf.getvalue()


def digest_figure(posts: Sequence[PostInsight], *, title: str, week_label: str) -> Figure:
    """The chart as a matplotlib Figure on an Agg canvas (what `render_digest_chart` saves)."""
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
        left,
        at(0.18),
        _short(title, TITLE_CHARS),
        fontsize=16,
        fontweight="bold",
        va="top",
        parse_math=False,
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
    return fig


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
