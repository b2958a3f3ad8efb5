"""The status machine: its declarations against the product, and nothing writes around it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ContentPiece
from db.repositories import transitions
from db.repositories.transitions import Guard, PostsEffect
from db.status import ApprovalAction, ContentStatus
from services import status_display, status_machine
from tests import status_watch
from tests.factories import make_agent, make_piece

S = ContentStatus
ROOT = Path(__file__).resolve().parents[2]

# PRODUCT.md §3 (the buttons), §4 (regenerate, publish, withdrawal on sale), §6 (outcomes).
EXPECTED_PAIRS = {
    # Approve, with and without marketing sign-off; Marketing approved.
    (S.PENDING_APPROVAL_AGENT, S.APPROVED_FOR_POSTING),
    (S.PENDING_APPROVAL_AGENT, S.PENDING_EXTERNAL_MARKETING_APPROVAL),
    (S.PENDING_EXTERNAL_MARKETING_APPROVAL, S.APPROVED_FOR_POSTING),
    # Revise, and the new version (or the last failed rewrite) back to the agent.
    (S.PENDING_APPROVAL_AGENT, S.PENDING_AI_REVISION),
    (S.PENDING_AI_REVISION, S.PENDING_APPROVAL_AGENT),
    # Reject; Cancel of an approved post; withdrawal of a sold home's drafts.
    (S.PENDING_APPROVAL_AGENT, S.REJECTED),
    (S.PENDING_EXTERNAL_MARKETING_APPROVAL, S.REJECTED),
    (S.APPROVED_FOR_POSTING, S.REJECTED),
    (S.PENDING_AI_REVISION, S.REJECTED),
    (S.DRAFT, S.REJECTED),
    # Publishing outcomes and Retry.
    (S.APPROVED_FOR_POSTING, S.POSTED_SUCCESSFULLY),
    (S.APPROVED_FOR_POSTING, S.POSTING_FAILED),
    (S.POSTING_FAILED, S.POSTED_SUCCESSFULLY),
    (S.POSTING_FAILED, S.APPROVED_FOR_POSTING),
}

# What the agent's decisions log (PRODUCT.md §3), by transition.
EXPECTED_AUDIT = {
    "approve": ApprovalAction.APPROVED,
    "send_to_marketing": ApprovalAction.SENT_TO_MARKETING,
    "marketing_approve": ApprovalAction.RECORDED_MARKETING_APPROVAL,
    "request_revision": ApprovalAction.REQUESTED_REVISIONS,
    "reject": ApprovalAction.REJECTED,
    "cancel": ApprovalAction.REJECTED,
    "retry": ApprovalAction.APPROVED,
    "withdraw": ApprovalAction.REJECTED,
    "withdraw_approved": ApprovalAction.REJECTED,
}


def test_the_declared_status_changes_are_the_products() -> None:
    expected = {(str(a), str(b)) for a, b in EXPECTED_PAIRS}
    assert status_machine.allowed_pairs() == expected


def test_each_decision_logs_its_action_and_nothing_else_logs() -> None:
    logged = {t.name: t.audit for t in status_machine.ALL if t.audit is not None}
    assert logged == {name: str(action) for name, action in EXPECTED_AUDIT.items()}


def test_transition_names_are_unique() -> None:
    names = [t.name for t in status_machine.ALL]
    assert len(names) == len(set(names))


def test_nothing_that_schedules_or_moves_posts_applies_to_flyer_text() -> None:
    posting = [t for t in status_machine.ALL if t.posts in (PostsEffect.SCHEDULE, PostsEffect.MOVE)]
    assert {t.name for t in posting} == {"approve", "marketing_approve", "retry", "post_now"}
    assert all(Guard.SOCIAL_POST in t.guards for t in posting)
    # Sending to marketing leads to posting, so it is refused for flyer text as well.
    assert Guard.SOCIAL_POST in status_machine.SEND_TO_MARKETING.guards


def test_every_tap_is_guarded_by_owner_and_version() -> None:
    taps = (
        status_machine.APPROVE,
        status_machine.SEND_TO_MARKETING,
        status_machine.MARKETING_APPROVE,
        status_machine.REJECT,
        status_machine.REQUEST_REVISION,
        status_machine.POST_NOW,
        status_machine.CANCEL,
        status_machine.RETRY,
    )
    for t in taps:
        assert {Guard.OWNER, Guard.VERSION} <= t.guards, t.name


def test_the_service_decides_marketing_sign_off() -> None:
    assert status_machine.approve_transition(True) is status_machine.SEND_TO_MARKETING
    assert status_machine.approve_transition(False) is status_machine.APPROVE
    # Each re-checks the setting it was chosen for.
    assert Guard.SIGN_OFF_ON in status_machine.SEND_TO_MARKETING.guards
    assert Guard.SIGN_OFF_OFF in status_machine.APPROVE.guards


@pytest.mark.parametrize("t", status_machine.ALL, ids=lambda t: t.name)
def test_both_strategies_build_from_every_declaration(t: transitions.Transition) -> None:
    """PostgreSQL's fused statement and SQLite's steps compile from the same declaration,
    and both write the same parts: the status, the audit row, the posts."""
    values = (("last_approved_at", False),)
    fused = str(
        transitions._fused_statement(t, values, False).compile(dialect=postgresql.dialect())
    )
    cas, log, posts = transitions._steps(t, values, False)
    steps = [str(s.compile(dialect=sqlite.dialect())) for s in (cas, log, posts) if s is not None]
    # PostgreSQL's slot guard bumps the agent's slot_plan_version; SQLite's taps take turns.
    plans = Guard.SLOTS_AS_READ in t.guards
    updates = len(re.findall(r"\bUPDATE rltr_mktg_", fused))
    assert updates == 1 + (t.posts in (PostsEffect.CANCEL, PostsEffect.MOVE)) + plans
    assert len(re.findall(r"\bUPDATE rltr_mktg_agents", fused)) == plans
    assert not any("UPDATE rltr_mktg_agents" in s for s in steps)
    assert ("INSERT INTO rltr_mktg_approval_logs" in fused) == (t.audit is not None)
    assert any("INSERT INTO rltr_mktg_approval_logs" in s for s in steps) == (t.audit is not None)
    assert ("rltr_mktg_post_schedule" in fused) == (t.posts is not None or _reads_posts(t))
    assert len(steps) == 1 + (t.audit is not None) + (t.posts is not None)
    for sql in (fused, steps[0]):
        assert ("rltr_mktg_agents" in sql) == (Guard.OWNER in t.guards)


def _reads_posts(t: transitions.Transition) -> bool:
    return bool({Guard.NOTHING_IN_FLIGHT, Guard.NOTHING_STARTED} & t.guards)


def test_every_status_has_its_words_and_buttons_in_one_table() -> None:
    assert set(status_display.DISPLAY) == set(ContentStatus)
    # A button is offered only where a transition it triggers starts.
    starts = {
        status_display.Button.APPROVE: status_machine.APPROVE.from_statuses,
        status_display.Button.REJECT: status_machine.REJECT.from_statuses,
        status_display.Button.REVISE: status_machine.REQUEST_REVISION.from_statuses,
        status_display.Button.MARKETING_APPROVED: status_machine.MARKETING_APPROVE.from_statuses,
        status_display.Button.POST_NOW: status_machine.POST_NOW.from_statuses,
        status_display.Button.CANCEL: status_machine.CANCEL.from_statuses,
        status_display.Button.RETRY: status_machine.RETRY.from_statuses,
    }
    for status, row in status_display.DISPLAY.items():
        offered = {b for r in row.buttons + row.flyer_buttons for b in r} | set(row.dashboard)
        for button in offered & starts.keys():
            assert status in starts[button], (status, button)


# --------------------------------------------------------------------------------------
# Nothing writes the status around the machine
# --------------------------------------------------------------------------------------

_EXECUTOR = ROOT / "db" / "repositories" / "transitions.py"
_PIECE_TABLES = {"ContentPiece", "_pieces"}
_RAW_UPDATE = re.compile(r"UPDATE\s+\w*content_pieces\b[^;]*\bSET\b[^;]*\bstatus\b", re.I | re.S)


def _updates_pieces(node: ast.AST) -> bool:
    """Whether an expression chain starts from update(ContentPiece) (or the table)."""
    while True:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "update" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Name) and arg.id in _PIECE_TABLES:
                    return True
            if isinstance(func, ast.Attribute) and func.attr == "update":
                target = func.value
                if isinstance(target, ast.Attribute) and target.attr == "__table__":
                    return isinstance(target.value, ast.Name) and target.value.id in _PIECE_TABLES
            node = func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return False


def _sets_status(call: ast.Call) -> bool:
    if any(k.arg == "status" for k in call.keywords):
        return True
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            keys = [k.value for k in arg.keys if isinstance(k, ast.Constant)]
            if "status" in keys:
                return True
    return False


def status_writes(source: str) -> list[int]:
    """Lines where `source` writes content_pieces.status."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "values"
            and _updates_pieces(node.func.value)
            and _sets_status(node)
        ):
            lines.append(node.lineno)
    lines += [source.count("\n", 0, m.start()) + 1 for m in _RAW_UPDATE.finditer(source)]
    return lines


def test_the_grep_finds_a_status_write() -> None:
    """The check below can fail: it spots each way of writing the status."""
    assert status_writes("update(ContentPiece).where(x).values(status='rejected')") == [1]
    assert status_writes("update(_pieces).values({'status': s, 'updated_at': n})") == [1]
    assert status_writes("ContentPiece.__table__.update().values(status=s)") == [1]
    assert status_writes("text('UPDATE rltr_mktg_content_pieces SET status = :s')") == [1]
    assert status_writes("update(ContentPiece).values(delivered_version=None)") == []
    assert status_writes("update(PostSchedule).values(status='cancelled')") == []


def test_only_the_executor_writes_a_drafts_status() -> None:
    found = []
    for package in ("bot", "services", "db", "web", "rltr_mktg"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == _EXECUTOR:
                continue
            for line in status_writes(path.read_text(encoding="utf-8")):
                found.append(f"{path.relative_to(ROOT)}:{line}")
    assert found == []


# --------------------------------------------------------------------------------------
# The watch on the test databases (tests/status_watch.py)
# --------------------------------------------------------------------------------------


async def test_the_watch_refuses_an_undeclared_status_change(session: AsyncSession) -> None:
    """A stray UPDATE to a pair no transition declares fails the test that runs it."""
    agent = await make_agent(session)
    piece = await make_piece(session, agent, status=S.POSTED_SUCCESSFULLY)
    await session.flush()
    with pytest.raises(DBAPIError, match=status_watch.UNDECLARED):
        async with session.begin_nested():
            await session.execute(
                ContentPiece.__table__.update()
                .where(ContentPiece.__table__.c.id == piece.id)
                .values(status=S.PENDING_APPROVAL_AGENT.value)
            )


async def test_the_watch_records_what_the_machine_does(session: AsyncSession) -> None:
    agent = await make_agent(session)
    piece = await make_piece(session, agent)
    await session.flush()
    req = transitions.Request(piece.id, version=1, agent_id=agent.id)
    assert await transitions.apply_in(session, status_machine.REJECT, req) is not None
    seen = await status_watch.seen_pairs(session)
    assert (S.PENDING_APPROVAL_AGENT.value, S.REJECTED.value) in seen
