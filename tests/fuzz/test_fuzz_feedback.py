"""Fuzz feedback handling: whatever an agent sends (any Unicode, up to Telegram's 4,096
characters) becomes a revision or a polite refusal, never an exception.

The services are fuzzed, not Telegram: `approval.submit_feedback` (what the text handler
calls) on both databases, then `revisions.regenerate` with the built-in writer, then the
rewritten draft as the agent will see it.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.draft_render import render_draft
from bot.render import MAX_TEXT
from db.models import Agent, ContentPiece, Listing
from db.repositories.delivery import DraftRow
from db.session import create_sessionmaker
from db.status import ContentStatus
from services import approval
from services.context import Database
from services.crypto import TokenCipher, generate_key
from services.drafting.revisions import GAVE_UP, regenerate
from services.generation.builtin_style import parse_feedback
from services.generation.builtin_writer import BuiltinWriter
from services.generation.pipeline import produce
from services.generation.writer import GenerationFailed, WriteRequest
from services.notifying.delivery import draft_view
from tests.conftest import truncate_all
from tests.factories import make_agent, make_piece
from tests.fuzz.telegram_html import utf16_length, visible_text
from tests.services.generation.gen_listings import AGENT, BASE

TELEGRAM_MAX = 4096  # a Telegram text message, in UTF-16 code units
WRITER = BuiltinWriter()
_users = itertools.count(7_770_000)

# Requests the built-in writer understands, mixed with anything at all.
_PHRASES = [
    "make it shorter",
    "no emojis",
    "add #OcalaLiving",
    "remove #JustListed",
    'say "call me today"',
    "mention the lanai",
    "more formal",
    "hide the price",
    "drop the last sentence",
    "and then",
    "don't",
    ",",
    ".",
    "\n",
    "«quoted»",
    "#",
    "''",
]
_pieces = st.sampled_from(_PHRASES) | st.text(max_size=60)
_feedback = st.one_of(
    st.lists(_pieces, max_size=30).map(" ".join),
    st.text(max_size=400),
    st.builds(lambda piece, n: piece * n, _pieces, st.integers(1, 500)),
).map(lambda text: text[:TELEGRAM_MAX])


def _cut(text: str) -> str:
    """What Telegram delivers: at most 4,096 UTF-16 code units."""
    while utf16_length(text) > TELEGRAM_MAX:
        text = text[:-1]
    return text


_messages = _feedback.map(_cut)
_HOSTILE = [
    "",
    " \n\t ",
    "\x00",
    "shorter\x00please",
    "\u202e\u2066reversed",
    "\ufeff",
    "😀" * 2048,
    "a" * 4096,
    " " * 4000 + "shorter",
    "'" * 4096,
    '"' * 4096,
    "#" * 4096,
    "make it " * 512,
    "<b>bold</b> & &amp; </i>",
]


def _polite(reason: str) -> None:
    """A refusal the agent can read: words, not a traceback or a repr."""
    assert reason.strip() and "Traceback" not in reason and "Error(" not in reason


# -- the writer (no database) -----------------------------------------------------------------


@given(_messages)
@example("make it rhyme, and shorter")
def test_feedback_parsing_never_raises(text: str) -> None:
    plan = parse_feedback(text.strip())
    for clause in plan.not_understood:
        assert clause.strip()


@given(_messages, st.sampled_from(["social_media_post", "flyer_text"]))
async def test_builtin_revision_is_a_revision_or_a_polite_refusal(text: str, kind: str) -> None:
    first = await WRITER.write(WriteRequest(kind, "new_listing", BASE, AGENT))  # type: ignore[arg-type]
    request = WriteRequest(
        kind,  # type: ignore[arg-type]
        "revision",
        BASE,
        AGENT,
        previous=first.content,
        feedback=text.strip()[: approval.MAX_FEEDBACK_CHARS],
    )
    try:
        outcome = await produce(WRITER, request)
    except GenerationFailed as exc:
        _polite(exc.reason)
        return
    assert outcome.content and isinstance(outcome.content, dict)
    if outcome.note is not None:
        _polite(outcome.note)


# -- the service, on both databases ----------------------------------------------------------


@pytest.fixture(scope="module")
async def fuzz_database(engine: AsyncEngine) -> AsyncIterator[Database]:
    """A committing database for the whole module (hypothesis runs many examples per test);
    every table is emptied before and after."""
    await truncate_all(engine)
    try:
        yield Database(engine, create_sessionmaker(engine), TokenCipher([generate_key()]))
    finally:
        await truncate_all(engine)


async def _draft(database: Database) -> tuple[Agent, ContentPiece, Listing]:
    async with database.unit_of_work() as session:
        agent = await make_agent(session, telegram_user_id=next(_users))
        piece = await make_piece(session, agent)
        listing = await session.get(Listing, piece.listing_id)
    assert listing is not None
    return agent, piece, listing


async def _submit(
    database: Database, agent: Agent, piece: ContentPiece, text: str, after_tap: bool
) -> approval.FeedbackAccepted | None:
    uid = agent.telegram_user_id
    assert uid is not None
    async with database.unit_of_work() as session:
        conn = await session.connection()
        if after_tap:  # tapped Revise, then sent a message
            tap = await approval.start_revision(
                conn, piece_id=piece.id, version=1, telegram_user_id=uid
            )
            assert tap.ok
            return await approval.submit_feedback(conn, telegram_user_id=uid, text=text)
        # replied to the draft message
        return await approval.submit_feedback(
            conn, telegram_user_id=uid, text=text, piece_id=piece.id, version=1
        )


@given(text=_messages, after_tap=st.booleans())
@example(text="", after_tap=True)
@example(text="\x00", after_tap=False)
@example(text="shorter\x00please", after_tap=True)
@example(text="😀" * 2048, after_tap=False)
@example(text=" " * 4000 + "shorter", after_tap=True)
@example(text="make it " * 512, after_tap=False)
@example(text="<b>bold</b> & &amp; </i>", after_tap=True)
async def test_feedback_becomes_a_revision_or_a_polite_refusal(
    fuzz_database: Database, text: str, after_tap: bool
) -> None:
    database = fuzz_database
    agent, piece, listing = await _draft(database)
    accepted = await _submit(database, agent, piece, text, after_tap)
    async with database.unit_of_work() as session:
        row = await session.get(ContentPiece, piece.id)
    assert row is not None
    if accepted is None:
        # Refused only when there is nothing to say; the draft still waits, unchanged.
        assert not text.replace("\x00", "").strip(), "words sent after Revise are feedback"
        assert row.feedback is None
        assert (row.status, row.version) == (ContentStatus.PENDING_APPROVAL_AGENT, 1)
        return
    assert accepted.piece_id == piece.id
    assert row.status == ContentStatus.PENDING_AI_REVISION
    assert row.feedback and len(row.feedback) <= approval.MAX_FEEDBACK_CHARS
    assert row.feedback == row.feedback.strip() and "\x00" not in row.feedback
    assert row.feedback in text.replace("\x00", "")  # what they wrote, at most shortened

    assert await regenerate(database, WRITER, piece_ids=[piece.id]) == [piece.id]
    async with database.unit_of_work() as session:
        row = await session.get(ContentPiece, piece.id)
    assert row is not None and row.status == ContentStatus.PENDING_APPROVAL_AGENT
    gave_up = any(w.get("message") == GAVE_UP for w in row.warnings or [])
    assert row.version == (1 if gave_up else 2)
    # What the agent sees next: valid Telegram messages quoting their feedback.
    parts = render_draft(draft_view(DraftRow(row, agent, listing)))
    for part in parts:
        assert 0 < utf16_length(visible_text(part)) <= MAX_TEXT
