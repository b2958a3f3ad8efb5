"""Every way a draft's status changes, declared once (PRODUCT.md §2 and §5).

    pending_approval_agent
      ├─ approve ─────────────▶ approved_for_posting ─ publish_succeeded ─▶ posted_successfully
      │                           │  └─ publish_failed / posts_cancelled ─▶ posting_failed
      │                           │       (posting_failed ─ retry ─▶ approved_for_posting;
      │                           │        ─ publish_succeeded ─▶ posted_successfully)
      │                           └─ cancel, withdraw_approved ─▶ rejected
      ├─ send_to_marketing ──▶ pending_external_marketing_approval
      │                           ├─ marketing_approve ─▶ approved_for_posting
      │                           └─ reject, withdraw ─▶ rejected
      ├─ request_revision ───▶ pending_ai_revision
      │                           ├─ revision_done, revision_given_up ─▶ pending_approval_agent
      │                           └─ withdraw ─▶ rejected
      └─ reject, withdraw ───▶ rejected

Each declaration says from which statuses, to which status, what the write re-checks
(guards), which audit action it logs and what it does to the draft's posts. The database
layer (`db.repositories.transitions`) executes a declaration and is the only code that
writes `content_pieces.status`; services pick the transition, never the SQL. `post_now`
keeps the status and only brings the posts forward, through the same compare-and-set.
"""

from __future__ import annotations

from db.repositories.transitions import Guard, PostsEffect, Transition
from db.status import ApprovalAction, ContentStatus

S = ContentStatus
A = ApprovalAction
_TAP = frozenset({Guard.VERSION, Guard.OWNER})
_POSTING_TAP = _TAP | {Guard.SOCIAL_POST}
# Approvals that plan posting slots write only if no other approval planned since the read.
_PLANNING_TAP = _POSTING_TAP | {Guard.SLOTS_AS_READ}

# The agent taps on a draft (or clicks on the dashboard).
APPROVE = Transition(
    "approve",
    (S.PENDING_APPROVAL_AGENT,),
    S.APPROVED_FOR_POSTING,
    _PLANNING_TAP | {Guard.SIGN_OFF_OFF},
    audit=A.APPROVED,
    posts=PostsEffect.SCHEDULE,
)
SEND_TO_MARKETING = Transition(
    "send_to_marketing",
    (S.PENDING_APPROVAL_AGENT,),
    S.PENDING_EXTERNAL_MARKETING_APPROVAL,
    _POSTING_TAP | {Guard.SIGN_OFF_ON},
    audit=A.SENT_TO_MARKETING,
)
MARKETING_APPROVE = Transition(
    "marketing_approve",
    (S.PENDING_EXTERNAL_MARKETING_APPROVAL,),
    S.APPROVED_FOR_POSTING,
    _PLANNING_TAP,
    audit=A.RECORDED_MARKETING_APPROVAL,
    posts=PostsEffect.SCHEDULE,
)
REJECT = Transition(
    "reject",
    (S.PENDING_APPROVAL_AGENT, S.PENDING_EXTERNAL_MARKETING_APPROVAL),
    S.REJECTED,
    _TAP,
    audit=A.REJECTED,
)
REQUEST_REVISION = Transition(
    "request_revision",
    (S.PENDING_APPROVAL_AGENT,),
    S.PENDING_AI_REVISION,
    _TAP,
    audit=A.REQUESTED_REVISIONS,
)
POST_NOW = Transition(
    "post_now",
    (S.APPROVED_FOR_POSTING,),
    S.APPROVED_FOR_POSTING,
    _POSTING_TAP,
    posts=PostsEffect.MOVE,
)
CANCEL = Transition(
    "cancel",
    (S.APPROVED_FOR_POSTING,),
    S.REJECTED,
    _TAP | {Guard.NOTHING_IN_FLIGHT},
    audit=A.REJECTED,
    audit_feedback="Cancelled by the agent before it was posted.",
    posts=PostsEffect.CANCEL,
)
RETRY = Transition(
    "retry",
    (S.POSTING_FAILED,),
    S.APPROVED_FOR_POSTING,
    _POSTING_TAP,
    audit=A.APPROVED,
    audit_feedback="Retry after a failed post.",
    posts=PostsEffect.SCHEDULE,
)

# The writer finished (or gave up on) a rewrite.
REVISION_DONE = Transition(
    "revision_done",
    (S.PENDING_AI_REVISION,),
    S.PENDING_APPROVAL_AGENT,
    frozenset({Guard.VERSION}),
)
REVISION_GIVEN_UP = Transition(
    "revision_given_up",
    (S.PENDING_AI_REVISION,),
    S.PENDING_APPROVAL_AGENT,
    frozenset({Guard.VERSION}),
)

# The publisher's outcomes.
PUBLISH_FAILED = Transition("publish_failed", (S.APPROVED_FOR_POSTING,), S.POSTING_FAILED)
# Every post was cancelled by disconnecting its account: nothing can go out any more.
POSTS_CANCELLED = Transition("posts_cancelled", (S.APPROVED_FOR_POSTING,), S.POSTING_FAILED)
# A post failed while another went out: the draft is live where it could be.
PUBLISH_SUCCEEDED = Transition(
    "publish_succeeded", (S.APPROVED_FOR_POSTING, S.POSTING_FAILED), S.POSTED_SUCCESSFULLY
)

# The scrape: the home left the market, so its drafts not yet posted are withdrawn.
WITHDRAW = Transition(
    "withdraw",
    (
        S.DRAFT,
        S.PENDING_APPROVAL_AGENT,
        S.PENDING_EXTERNAL_MARKETING_APPROVAL,
        S.PENDING_AI_REVISION,
    ),
    S.REJECTED,
    audit=A.REJECTED,
    posts=PostsEffect.CANCEL,
)
WITHDRAW_APPROVED = Transition(
    "withdraw_approved",
    (S.APPROVED_FOR_POSTING,),
    S.REJECTED,
    frozenset({Guard.NOTHING_STARTED}),
    audit=A.REJECTED,
    posts=PostsEffect.CANCEL,
)

ALL: tuple[Transition, ...] = (
    APPROVE,
    SEND_TO_MARKETING,
    MARKETING_APPROVE,
    REJECT,
    REQUEST_REVISION,
    POST_NOW,
    CANCEL,
    RETRY,
    REVISION_DONE,
    REVISION_GIVEN_UP,
    PUBLISH_FAILED,
    POSTS_CANCELLED,
    PUBLISH_SUCCEEDED,
    WITHDRAW,
    WITHDRAW_APPROVED,
)


def approve_transition(requires_marketing_approval: bool) -> Transition:
    """Approve goes to marketing sign-off when the agent's setting asks for it."""
    return SEND_TO_MARKETING if requires_marketing_approval else APPROVE


def allowed_pairs() -> frozenset[tuple[str, str]]:
    """Every (from, to) status change some declared transition can make."""
    return frozenset(
        (str(src), str(t.to_status)) for t in ALL for src in t.from_statuses if src != t.to_status
    )
