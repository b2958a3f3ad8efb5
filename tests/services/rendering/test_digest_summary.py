"""The digest's numbers: totals of what Graph reported and the best post."""

from __future__ import annotations

from services.rendering.digest_summary import PostInsight, ranked, summarize_week, totals_line


def _post(label: str, platform: str, reach: int | None, views: int | None) -> PostInsight:
    return PostInsight(label, platform, reach, views, f"https://example.com/{label}")


def test_totals_count_reported_metrics_only() -> None:
    posts = [
        _post("a", "facebook", 412, 1380),
        _post("b", "instagram", None, 870),
        _post("c", "instagram", 198, None),
        _post("d", "facebook", None, None),
    ]
    summary = summarize_week(posts)

    assert summary.posts == 4
    assert summary.total_reach == 610
    assert summary.total_views == 2250
    assert summary.per_platform == (("facebook", 2), ("instagram", 2))
    assert totals_line(summary) == "4 posts · reach 610 · views 2,250"


def test_best_is_by_reach_then_views() -> None:
    posts = [
        _post("most views", "instagram", 300, 9000),
        _post("most reach", "facebook", 500, 100),
        _post("tie on reach, more views", "instagram", 500, 200),
        _post("no reach", "instagram", None, 99999),
    ]

    assert summarize_week(posts).best == posts[2]
    assert [p.label for p in ranked(posts)] == [
        "tie on reach, more views",
        "most reach",
        "most views",
        "no reach",
    ]


def test_equal_posts_keep_their_order() -> None:
    posts = [_post("first", "facebook", 10, 10), _post("second", "instagram", 10, 10)]

    assert summarize_week(posts).best == posts[0]
    assert ranked(posts) == posts


def test_views_decide_when_nobody_reported_reach() -> None:
    posts = [_post("a", "instagram", None, 5), _post("b", "instagram", None, 50)]

    assert summarize_week(posts).best == posts[1]


def test_no_best_post_when_nothing_was_seen() -> None:
    for posts in ([], [_post("a", "facebook", None, None)], [_post("a", "facebook", 0, 0)]):
        summary = summarize_week(posts)
        assert summary.best is None, posts
    empty = summarize_week([])
    assert (empty.posts, empty.total_reach, empty.total_views) == (0, None, None)
    assert totals_line(empty) == "0 posts"
    assert totals_line(summarize_week([_post("a", "facebook", None, 3)])) == "1 post · views 3"
