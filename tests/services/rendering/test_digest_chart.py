"""The digest chart: a PNG whose bars and numbers are the week's numbers."""

from __future__ import annotations

import gc
import io
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

from services.rendering import digest_chart
from services.rendering.digest_chart import MAX_BARS, digest_figure, render_digest_chart
from services.rendering.digest_summary import PostInsight

WEEK = "Dec 1 – Dec 7, 2025"


def _posts(count: int) -> list[PostInsight]:
    return [
        PostInsight(
            f"Mon 12/1 · {100 + i} Oak St", ("facebook", "instagram")[i % 2], i * 10, i * 25
        )
        for i in range(count)
    ]


def _png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    img.load()
    return img


def _texts(posts: list[PostInsight], title: str = "Your week") -> list[str]:
    fig = digest_figure(posts, title=title, week_label=WEEK)
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(match=Text) if isinstance(t, Text)]


def test_chart_shows_the_input_numbers_with_the_best_on_top() -> None:
    posts = [
        PostInsight("Mon 12/1 · 123 Oak St", "facebook", 412, 1380),
        PostInsight("Wed 12/3 · 9 Elm Ct", "instagram", 655, 2104),
        PostInsight("Fri 12/5 · 77 Bay Rd", "instagram", None, 870),
    ]
    fig = digest_figure(posts, title="Your week", week_label=WEEK)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() < 0.5]
    widths = sorted((round(b.get_y() + b.get_height(), 2), b.get_width()) for b in bars)

    # Best first: reach then views, row by row (a missing metric is a bar of zero).
    assert [w for _, w in widths] == [655, 2104, 412, 1380, 0, 870]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Wed 12/3 · 9 Elm Ct\nInstagram"
    assert ax.get_yticklabels()[0].get_fontweight() == "bold"
    texts = _texts(posts)
    for number in ("655", "2,104", "412", "1,380", "870", "n/a"):
        assert number in texts
    assert f"{WEEK}  ·  3 posts · reach 1,067 · views 4,354" in texts
    assert "Best post" in texts


@pytest.mark.parametrize("count", [0, 1, 12, 40])
def test_chart_renders_for_any_number_of_posts(count: int) -> None:
    img = _png(render_digest_chart(_posts(count), title="Your week", week_label=WEEK))

    assert img.width == 1080
    assert 250 <= img.height <= 1400


def test_many_posts_show_the_top_ones_and_how_many_more() -> None:
    posts = _posts(40)
    texts = _texts(posts)

    assert "+28 more posts not shown" in texts
    assert "Mon 12/1 · 139 Oak St\nInstagram" in texts  # the best of the forty
    assert not any("100 Oak St" in t for t in texts)  # the weakest is left out
    assert MAX_BARS == 12
    one_more = _texts(_posts(13))
    assert "+1 more post not shown" in one_more


def test_no_posts_says_so() -> None:
    texts = _texts([])

    assert "No posts published this week" in texts
    assert f"{WEEK}  ·  0 posts" in texts


def test_missing_metrics_and_odd_labels_draw_cleanly() -> None:
    posts = [
        PostInsight(
            "Sat · $289,990 price cut $ 🏡🔥 " + "very long " * 10, "instagram", None, None
        ),
        PostInsight("", "threads", 0, None),
        PostInsight("Save $10k on 12/5 ^_^ $", "facebook", None, 3),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph or a TeX error would warn or raise
        data = render_digest_chart(posts, title="Week of $5 & <b>", week_label=WEEK)
    texts = _texts(posts, title="Week of $5 & <b>")

    assert _png(data).width == 1080
    assert "Sat · $289,990 price cut $ very l…\nInstagram" in texts
    assert "\nThreads" in texts
    assert texts.count("n/a") == 4
    assert "Save $10k on 12/5 ^_^ $\nFacebook" in texts
    assert "Week of $5 & <b>" in texts


def test_two_threads_draw_the_same_chart() -> None:
    posts = _posts(8)
    alone = render_digest_chart(posts, title="Your week", week_label=WEEK)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(
                lambda _: render_digest_chart(posts, title="Your week", week_label=WEEK), range(4)
            )
        )

    assert results == [alone] * 4


def test_unwritable_home_gets_a_temporary_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("HOME", str(blocker / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("MPLCONFIGDIR", "")  # recorded, so the test's change is undone
    digest_chart._matplotlib_dirs.cache_clear()
    try:
        digest_chart._matplotlib_dirs()
        chosen = os.environ["MPLCONFIGDIR"]
        assert chosen and Path(chosen).is_dir() and os.access(chosen, os.W_OK)
    finally:
        digest_chart._matplotlib_dirs.cache_clear()


def test_writable_home_is_left_to_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("MPLCONFIGDIR", "")
    digest_chart._matplotlib_dirs.cache_clear()
    try:
        digest_chart._matplotlib_dirs()
        assert os.environ["MPLCONFIGDIR"] == ""
    finally:
        digest_chart._matplotlib_dirs.cache_clear()


def test_rendering_leaves_no_figure_behind() -> None:
    render_digest_chart(_posts(3), title="Your week", week_label=WEEK)  # imports settle
    gc.collect()
    gc.disable()  # only what the renderer itself frees counts
    try:
        before = [o for o in gc.get_objects() if isinstance(o, Figure)]
        render_digest_chart(_posts(3), title="Your week", week_label=WEEK)
        now = [o for o in gc.get_objects() if isinstance(o, Figure)]
        left = [o for o in now if not any(o is b for b in before)]
    finally:
        gc.enable()

    assert left == []
