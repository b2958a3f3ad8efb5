"""Fuzz the Telegram text and caption renderers (bot/render.py, bot/draft_render.py).

Whatever text goes in, what comes out is HTML Telegram accepts: known tags only, every tag
closed in order, every `<`, `>` and `&` outside a tag escaped, and within the limit as
Telegram counts it (UTF-16 code units of the text after entity parsing). Two checks judge
each output: the strict checker in tests/fuzz/telegram_html.py, and the port of Telegram's
own parser in the fake Bot API (they must also agree on the text shown).
"""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from bot import draft_render
from bot.render import (
    ELLIPSIS,
    MAX_CALLBACK_ANSWER,
    MAX_CAPTION,
    MAX_TEXT,
    escape,
    fit_answer,
    fit_caption,
    fit_text,
    money,
    split_message,
    truncate_html,
    visible_length,
)
from db.status import ContentPurpose, ContentStatus, ContentType
from services.approval import ScheduledPost
from services.notifying.notifier import DraftView, ListingSummary
from tests.fakes.telegram_api import parse_html
from tests.fuzz.telegram_html import utf16_length, visible_text

# -- inputs -----------------------------------------------------------------------------------

# Any Unicode (astral emoji, combining marks, NUL, RTL marks...) and text made to look like
# markup, since agents and scraped pages write both.
_MARKUPISH = st.sampled_from(
    ["<", ">", "&", "&amp;", "&lt;", "&#128512;", "</b>", "<b>", "<a href='x'>", '"', "\n\n"]
)
_chars = st.text(max_size=40) | _MARKUPISH
_text = st.lists(_chars, max_size=12).map("".join)
# Long text cheaply: a drawn piece repeated (limits are thousands of characters).
_long_text = st.builds(lambda piece, times: piece * times, _text, st.integers(1, 400))


def _wrap(tag: str, href: str, inner: list[str]) -> str:
    body = "".join(inner)
    if tag == "a":
        return f'<a href="{html.escape(href, quote=True)}">{body}</a>'
    if tag == "span":
        return f'<span class="tg-spoiler">{body}</span>'
    return f"<{tag}>{body}</{tag}>"


_TAGS = st.sampled_from(
    ["b", "strong", "i", "em", "u", "ins", "s", "del", "tg-spoiler", "code", "pre", "a", "span"]
)
# Telegram HTML as the bot builds it: escaped text inside balanced tags, any depth.
_html = st.recursive(
    _text.map(escape),
    lambda inner: st.builds(
        _wrap,
        _TAGS,
        st.text(max_size=20).map(lambda tail: "https://x.test/" + tail),
        st.lists(inner, max_size=4),
    ),
    max_leaves=12,
)
_long_html = st.builds(lambda piece, times: piece * times, _html, st.integers(1, 300))


# -- checks -----------------------------------------------------------------------------------


def _shown(source: str) -> str:
    """The text Telegram shows, after both checkers accepted `source` and agree on it."""
    strict = visible_text(source)
    telegram, _entities = parse_html(source)
    assert strict == telegram
    return strict


def _no_space(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def _assert_truncated(source: str, out: str, limit: int) -> None:
    shown = _shown(out)
    assert utf16_length(shown) <= limit
    original = _shown(source)
    if utf16_length(original) <= limit:
        assert out == source
    else:
        assert shown.endswith(ELLIPSIS)
        assert original.startswith(shown[: -len(ELLIPSIS)])


def _assert_split(source: str, parts: list[str], limit: int) -> None:
    shown = [_shown(part) for part in parts]
    for text in shown:
        assert 0 < utf16_length(text) <= limit
        assert text.strip(), "Telegram refuses a message with no visible text"
    # Nothing is lost or invented: only whitespace at the cuts may go.
    assert _no_space("".join(shown)) == _no_space(_shown(source))


# -- the generic renderers --------------------------------------------------------------------


@given(_html | _long_html)
@example("a &lt; b &amp;&amp; c &gt; d &#128512; &quot;")
def test_visible_length_is_telegrams_count(source: str) -> None:
    assert visible_length(source) == utf16_length(_shown(source))


@given(_text | _long_text, st.integers(1, 300))
@example("🏠" * 10, 1)
@example("a & b " * 100, 5)
def test_truncated_plain_text_is_valid_and_fits(text: str, limit: int) -> None:
    source = escape(text)
    _assert_truncated(source, truncate_html(source, limit), limit)


@given(_html | _long_html, st.integers(1, 300))
@example("<b>" + "x" * 30 + "</b>", 3)
@example('<a href="https://x.test/">' + "&amp;" * 20 + "</a>", 4)
def test_truncated_html_is_valid_and_fits(source: str, limit: int) -> None:
    _assert_truncated(source, truncate_html(source, limit), limit)


@given(_long_text.map(escape) | _long_html)
def test_fit_text_and_caption_meet_telegrams_limits(source: str) -> None:
    _assert_truncated(source, fit_text(source), MAX_TEXT)
    _assert_truncated(source, fit_caption(source), MAX_CAPTION)


@given(_text | _long_text, st.integers(2, 300))
@example(" \n\n ", 2)
@example("\u3000x\u3000", 2)
def test_split_plain_text_is_valid_and_complete(text: str, limit: int) -> None:
    source = escape(text)
    _assert_split(source, split_message(source, limit), limit)


@given(_html | _long_html, st.integers(2, 300))
@example("<b> </b>", 10)
@example("<i>" + "🏡" * 9 + "</i>", 3)
def test_split_html_is_valid_and_complete(source: str, limit: int) -> None:
    _assert_split(source, split_message(source, limit), limit)


@given(_long_html)
def test_split_at_telegrams_limit(source: str) -> None:
    _assert_split(source, split_message(source), MAX_TEXT)


@given(_text | _long_text)
@example("🏠" * 150)
def test_callback_answers_fit(text: str) -> None:
    # Plain text (no parse mode): only the length matters, counted in UTF-16 code units.
    answer = fit_answer(text)
    assert utf16_length(answer) <= MAX_CALLBACK_ANSWER
    if utf16_length(text) <= MAX_CALLBACK_ANSWER:
        assert answer == text
    else:
        assert answer.endswith(ELLIPSIS) and text.startswith(answer[: -len(ELLIPSIS)])


# -- the draft renderer -----------------------------------------------------------------------

_maybe = st.none() | _text
_amount = st.none() | st.decimals(0, 10**9, places=2, allow_nan=False)
_count = st.none() | st.integers(0, 10**6)
_listings = st.builds(
    ListingSummary,
    address=_text | _long_text,
    city=_text,
    state=_text,
    zip_code=_text,
    price=_amount,
    beds=_count,
    baths=st.none() | st.decimals(0, 100, places=1, allow_nan=False),
    sqft=_count,
    garage=_count,
    community=_maybe,
    plan_name=_maybe,
    status=_maybe,
    source_url=st.none() | _text,
)
_post_text = st.fixed_dictionaries(
    {},
    optional={
        "facebook_text": _text | _long_text,
        "instagram_text": _text | _long_text,
        "headline": _text,
        "body": _text | _long_text,
        "subheadline": _text,
        "bullets": st.lists(_text, max_size=8),
        "description": _long_text,
        "call_to_action": _text,
        "agent_contact": _text,
    },
)
_warning = st.fixed_dictionaries(
    {"message": _text},
    optional={"kind": st.sampled_from(["writer_note", "fact_check", "x"]), "suggestion": _maybe},
)
_drafts = st.builds(
    DraftView,
    piece_id=st.just(uuid.UUID(int=1)),
    version=st.integers(1, 10**6),
    chat_id=st.just(1),
    content_type=st.sampled_from(list(ContentType)),
    purpose=st.sampled_from(list(ContentPurpose)),
    status=st.just(ContentStatus.PENDING_APPROVAL_AGENT.value),
    generated_text=_post_text,
    listing=_listings,
    warnings=st.lists(_warning, max_size=4),
    feedback=st.none() | _text | _long_text,
)
_scheduled = st.lists(
    st.builds(
        ScheduledPost,
        platform=st.sampled_from(["facebook", "instagram"]) | _text,
        account_name=_text,
        at=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    ),
    max_size=3,
)


@given(_drafts)
def test_a_draft_renders_as_valid_messages(draft: DraftView) -> None:
    parts = draft_render.render_draft(draft)
    assert parts
    for part in parts:
        shown = _shown(part)
        assert shown.strip() and utf16_length(shown) <= MAX_TEXT
    caption = _shown(draft_render.photo_caption(draft))
    assert utf16_length(caption) <= MAX_CAPTION


@given(
    _drafts,
    st.sampled_from(list(ContentStatus)),
    _scheduled,
    st.sampled_from(["America/New_York", "UTC", "Not/AZone"]),
    st.booleans(),
)
def test_a_decided_draft_keeps_valid_html(
    draft: DraftView,
    status: str,
    scheduled: list[ScheduledPost],
    timezone: str,
    awaiting_agent: bool,
) -> None:
    line = draft_render.status_line(status, scheduled, timezone, draft.content_type)
    assert _shown(line).strip()
    shown = draft_render.render_draft(draft)[-1]
    decided = draft_render.with_status(shown, line, awaiting_agent=awaiting_agent)
    assert utf16_length(_shown(decided)) <= MAX_TEXT


@given(_listings)
@example(
    ListingSummary(
        "1 <Main> & Co",
        "Ocala",
        "FL",
        "34470",
        Decimal("349990"),
        3,
        Decimal("2.50"),
        1850,
        2,
        None,
        None,
        None,
        'https://x.test/?a=1&b="2"',
    )
)
def test_listing_lines_are_valid(listing: ListingSummary) -> None:
    assert _shown(draft_render.facts_line(listing)).endswith(money(listing.price))
    where = _shown(draft_render._where(listing))
    assert where.startswith(f"{listing.address}, {listing.city}, {listing.state}")
