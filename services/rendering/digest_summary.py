"""The weekly digest's numbers, computed once for the message text and the chart alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


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
