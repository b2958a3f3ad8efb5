"""bot.render: escaping, Telegram's length rules, truncation and splitting, formatters."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot import render
from bot.render import (
    MAX_CALLBACK_ANSWER,
    MAX_CAPTION,
    MAX_TEXT,
    bold,
    code,
    escape,
    fit_answer,
    fit_caption,
    fmt_dt,
    italic,
    link,
    money,
    split_message,
    truncate_html,
    visible_length,
)
from tests.fakes.telegram_api import parse_html, u16len


def _telegram_text(source: str) -> str:
    """What Telegram shows for ``source``; raises if Telegram would refuse the HTML."""
    return parse_html(source)[0]


def test_limits_are_telegrams() -> None:
    assert (MAX_TEXT, MAX_CAPTION, MAX_CALLBACK_ANSWER) == (4096, 1024, 200)


def test_escape_and_tag_helpers() -> None:
    assert escape('<b>Tom & "Jerry"</b>') == '&lt;b&gt;Tom &amp; "Jerry"&lt;/b&gt;'
    assert bold("a<b") == "<b>a&lt;b</b>"
    assert italic("x & y") == "<i>x &amp; y</i>"
    assert code("<tag>") == "<code>&lt;tag&gt;</code>"
    assert link('3 bd "Oak" <new>', 'https://e.x/?a=1&b="2"') == (
        '<a href="https://e.x/?a=1&amp;b=&quot;2&quot;">3 bd "Oak" &lt;new&gt;</a>'
    )
    assert parse_html(link("Go", "https://e.x/?a=1&b=2"))[1][0]["url"] == "https://e.x/?a=1&b=2"
    hostile = "</b><script>alert(1)</script> & <a href=x>"
    assert _telegram_text(bold(hostile)) == hostile


def test_visible_length_counts_like_telegram() -> None:
    samples = [
        "plain",
        "<b>bold</b> and <i>italic</i>",
        "a &lt; b &amp;&amp; c &gt; d",
        "🏠 two units each 🏡",
        '<a href="https://x.example">link</a> <code>x</code>',
        escape("<<&&>>"),
    ]
    for sample in samples:
        assert visible_length(sample) == u16len(_telegram_text(sample)), sample


def test_truncate_returns_short_text_unchanged() -> None:
    text = "<b>short</b> &amp; sweet"
    assert truncate_html(text, 100) == text


def test_truncate_never_breaks_tags_or_entities() -> None:
    source = "<b>Bold start</b> " + " ".join(
        f'<i>word{i}</i> &amp; <a href="https://e.x/{i}">l{i}</a>' for i in range(200)
    )
    for limit in (10, 11, 37, 100, 101, 257, 1024):
        out = truncate_html(source, limit)
        assert visible_length(out) <= limit
        shown = _telegram_text(out)  # Telegram accepts it: tags balanced, entities whole
        assert shown.endswith("…")
        assert "&am" not in out.replace("&amp;", "")


def test_truncate_closes_open_tags_and_prefers_word_boundaries() -> None:
    source = "<b>Open <i>nested " + "x" * 50 + " words here and there</i></b>"
    out = truncate_html(source, 70)
    assert out.endswith("…</i></b>")
    assert "x" * 50 in out and visible_length(out) <= 70
    out = truncate_html("<b>" + "wordy " * 30 + "</b>", 40)
    assert re.fullmatch(r"<b>(wordy ){5}wordy…</b>", out)


def test_truncate_rejects_impossible_limit() -> None:
    with pytest.raises(ValueError):
        truncate_html("long text", 0)


def test_split_prefers_paragraphs_and_fits() -> None:
    paragraphs = [f"<b>Paragraph {i}</b>\n" + ("line of text " * 20).strip() for i in range(40)]
    source = "\n\n".join(paragraphs)
    parts = split_message(source, limit=1000)
    assert len(parts) > 1
    for part in parts:
        assert visible_length(part) <= 1000
        shown = _telegram_text(part)
        assert shown.startswith("Paragraph")  # every part starts at a paragraph
    joined = "\n\n".join(_telegram_text(p) for p in parts)
    assert joined == _telegram_text(source)


def test_split_reopens_tags_across_parts() -> None:
    source = "<blockquote><b>" + "\n".join(f"line {i:03}" for i in range(300)) + "</b></blockquote>"
    parts = split_message(source, limit=500)
    assert len(parts) >= 5
    for part in parts:
        assert part.startswith("<blockquote><b>") and part.endswith("</b></blockquote>")
        _, entities = parse_html(part)
        assert visible_length(part) <= 500
        assert {e["type"] for e in entities} == {"blockquote", "bold"}
    lines = "\n".join(_telegram_text(p) for p in parts).split("\n")
    assert lines == [f"line {i:03}" for i in range(300)]


def test_split_hard_cuts_one_huge_word_without_breaking_entities() -> None:
    source = "&amp;" * 5000
    parts = split_message(source, limit=MAX_TEXT)
    assert [visible_length(p) for p in parts] == [4096, 904]
    assert "".join(_telegram_text(p) for p in parts) == "&" * 5000


def test_split_blank_and_short() -> None:
    assert split_message("   \n\n ") == []
    # Tags around nothing visible make no message either (Telegram: "message text is empty").
    assert split_message("<b> </b>") == split_message("<i></i>\n") == []
    assert split_message("<b>hi</b>") == ["<b>hi</b>"]


def test_split_random_html_is_always_valid() -> None:
    rng = random.Random(1234)
    words = ["home", "3 bd", "<pool>", "a&b", "🏠", "$349,990", "\n", "\n\n", "Oak St."]
    for _ in range(60):
        pieces = []
        for _ in range(rng.randint(50, 600)):
            word = escape(rng.choice(words))
            pieces.append(rng.choice([word, f"<b>{word}</b>", f"<i>{word} <u>x</u></i>", word]))
        source = " ".join(pieces)
        limit = rng.choice([50, 200, 1024, 4096])
        for part in split_message(source, limit):
            assert visible_length(part) <= limit
            assert _telegram_text(part).strip()
        fitted = fit_caption(source, limit)
        assert visible_length(fitted) <= limit
        _telegram_text(fitted)


def test_fit_caption_and_answer() -> None:
    caption = bold("Price improvement!") + "\n" + escape("x < y " * 400)
    fitted = fit_caption(caption)
    assert visible_length(fitted) <= MAX_CAPTION and fitted.startswith("<b>Price improvement!</b>")
    assert fit_answer("ok") == "ok"
    long_answer = fit_answer("This draft was already approved. " * 20)
    assert u16len(long_answer) <= MAX_CALLBACK_ANSWER and long_answer.endswith("…")


def test_money() -> None:
    assert money(Decimal("349990")) == "$349,990"
    assert money(Decimal("349990.00")) == "$349,990"
    assert money(Decimal("1234.5")) == "$1,234.50"
    assert money(1_250_000) == "$1,250,000"
    assert money(Decimal("-5000")) == "-$5,000"
    assert money(None) == "Price on request"


def test_fmt_dt() -> None:
    moment = datetime(2025, 12, 2, 14, 0, tzinfo=UTC)
    assert fmt_dt(moment, "America/New_York") == "Tue 2 Dec, 9:00 AM"
    assert fmt_dt(datetime(2025, 12, 2, 14, 0), "America/New_York") == "Tue 2 Dec, 9:00 AM"
    assert (
        fmt_dt(datetime(2025, 7, 1, 0, 5, tzinfo=UTC), "America/New_York") == "Mon 30 Jun, 8:05 PM"
    )
    assert fmt_dt(datetime(2025, 7, 1, 12, 0, tzinfo=UTC), "UTC") == "Tue 1 Jul, 12:00 PM"
    assert fmt_dt(moment, "Not/AZone") == "Tue 2 Dec, 2:00 PM UTC"


def test_module_exports_are_real() -> None:
    for name in render.__all__:
        assert hasattr(render, name), name


def test_split_never_halves_an_emoji() -> None:
    source = "🏠" * 3000  # 6000 UTF-16 units, no whitespace at all
    parts = split_message(source, limit=4095)
    assert [visible_length(p) for p in parts] == [4094, 1906]
    assert "".join(parts) == source


def test_split_at_words_keeps_every_word() -> None:
    words = [f"w{i}" for i in range(3000)]
    parts = split_message(" ".join(words), limit=1000)
    assert all(visible_length(p) <= 1000 for p in parts)
    assert " ".join(parts).split(" ") == words


def test_stray_markup_is_re_escaped_when_cut() -> None:
    source = "a < b & c <br> d " * 100  # not valid Telegram HTML: treated as text
    assert visible_length(source) == len(source)
    for part in [*split_message(source, 300), truncate_html(source, 300)]:
        assert "<br>" not in part and "&lt;br&gt;" in part
        _telegram_text(part)


def test_truncate_drops_an_element_opened_right_at_the_cut() -> None:
    source = "x" * 95 + " <b>bold words that do not fit</b>"
    out = truncate_html(source, 100)
    assert out == "x" * 95 + "…"
