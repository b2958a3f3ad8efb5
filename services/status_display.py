"""How each draft status reads and which buttons it offers: one table, read by every renderer.

Renderers (the bot's draft messages and keyboards, /stats, the dashboard) look words and
buttons up here, so a new status word is one new row. The words are plain text; the bot
adds its own markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from db.status import ContentStatus, ContentType

S = ContentStatus


class Button(StrEnum):
    """A button a draft can offer (the bot and the dashboard route on these names)."""

    APPROVE = "approve"
    REVISE = "revise"
    REJECT = "reject"
    MARKETING_APPROVED = "marketing_approved"
    POST_NOW = "post_now"
    CANCEL = "cancel"
    FLYER = "flyer"
    RETRY = "retry"


# The bot's label for each button; flyer text's Reject reads Dismiss.
BUTTON_LABELS: dict[Button, str] = {
    Button.APPROVE: "✅ Approve",
    Button.REVISE: "✏️ Revise",
    Button.REJECT: "❌ Reject",
    Button.MARKETING_APPROVED: "✅ Marketing approved",
    Button.POST_NOW: "🚀 Post now",
    Button.CANCEL: "🛑 Cancel",
    Button.FLYER: "📄 Flyer text",
    Button.RETRY: "🔁 Retry",
}
DISMISS_LABEL = "🗑 Dismiss"
# Buttons the dashboard cannot offer: Revise is a conversation, Flyer text a new draft.
_NOT_ON_DASHBOARD = frozenset({Button.REVISE, Button.FLYER})

Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class StatusDisplay:
    """Everything a renderer shows for one status."""

    # The dashboard's label ("Waiting for the agent").
    label: str
    # /stats' count word ("waiting for the agent").
    count_word: str
    # The agent-facing phrase after "this draft is" ("already approved").
    phrase: str
    # The status line under a decided draft: (icon, headline, tail); None = the raw word.
    line: tuple[str, str, str] | None
    # A social post's bot buttons, in rows.
    buttons: Rows = ()
    # Flyer text's bot buttons: never one that schedules or publishes it (PRODUCT.md §10).
    flyer_buttons: Rows = ()
    # The dashboard's actions (some bot buttons are the bot's only).
    dashboard: tuple[Button, ...] = ()


B = Button
DISPLAY: dict[ContentStatus, StatusDisplay] = {
    S.DRAFT: StatusDisplay("Being written", "being written", "still being written", None),
    S.PENDING_APPROVAL_AGENT: StatusDisplay(
        "Waiting for the agent",
        "waiting for the agent",
        "waiting for your decision",
        None,
        buttons=((B.APPROVE, B.REVISE, B.REJECT), (B.FLYER,)),
        flyer_buttons=((B.REVISE, B.REJECT),),
        dashboard=(B.APPROVE, B.REJECT),
    ),
    S.PENDING_EXTERNAL_MARKETING_APPROVAL: StatusDisplay(
        "Waiting for marketing",
        "waiting for marketing",
        "waiting for marketing sign-off",
        ("⏳", "Sent for marketing sign-off.", " Tap Marketing approved when they agree."),
        buttons=((B.MARKETING_APPROVED, B.REJECT),),
    ),
    S.APPROVED_FOR_POSTING: StatusDisplay(
        "Approved, scheduled",
        "approved",
        "already approved",
        ("✅", "Approved.", " Connect Facebook or Instagram with /connect to post it."),
        buttons=((B.POST_NOW, B.CANCEL),),
        dashboard=(B.POST_NOW, B.CANCEL),
    ),
    S.REJECTED: StatusDisplay(
        "Rejected",
        "rejected",
        "already rejected",
        ("❌", "Rejected.", " It will not be posted."),
    ),
    S.PENDING_AI_REVISION: StatusDisplay(
        "Being rewritten",
        "being revised",
        "being rewritten from your feedback",
        ("✏️", "Rewriting from your feedback…", ""),
    ),
    S.POSTED_SUCCESSFULLY: StatusDisplay(
        "Posted", "posted", "already posted", ("🎉", "Posted.", "")
    ),
    S.POSTING_FAILED: StatusDisplay(
        "Posting failed",
        "failed",
        "a post that failed",
        None,
        buttons=((B.RETRY,),),
        dashboard=(B.RETRY,),
    ),
}
# Flyer text is dismissed, not rejected: it was never going to be posted.
FLYER_DISMISSED_LINE = ("🗑", "Dismissed.", "")


def display(status: str) -> StatusDisplay | None:
    """The row for `status`, or None for a word this version does not know."""
    try:
        return DISPLAY[S(status)]
    except ValueError:
        return None


def describe_status(status: str) -> str:
    """A few words for a status, as an agent would say it."""
    row = display(status)
    return row.phrase if row else status


def bot_buttons(status: str, content_type: str) -> Rows:
    """The bot's button rows for a draft in `status`."""
    row = display(status)
    if row is None:
        return ()
    return row.buttons if content_type == ContentType.SOCIAL_MEDIA_POST else row.flyer_buttons


def dashboard_buttons(status: str, content_type: str) -> tuple[Button, ...]:
    """The dashboard's actions on a draft: the bot's, but those that are the bot's only."""
    row = display(status)
    if row is None:
        return ()
    if content_type == ContentType.SOCIAL_MEDIA_POST:
        return row.dashboard
    return tuple(b for r in row.flyer_buttons for b in r if b not in _NOT_ON_DASHBOARD)
